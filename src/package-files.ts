/**
 * Where the files shipped beside the code are: the folder that holds dist/, templates/ and
 * package.json. That is the clone or npm's copy for the compiled modules (dist/package-files.js),
 * and /usr/lib/restic-systemd for the Debian package, whose one bundled file is dist/cli.js there:
 * both one folder below it, so the same relative URL finds it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

export const TEMPLATE_DIR = path.join(PACKAGE_DIR, 'templates');

/** The CLI the units run: dist/cli.js of this installation. */
export const CLI_FILE = path.join(PACKAGE_DIR, 'dist', 'cli.js');

/** The node running now and the CLI of this installation (dist/cli.js): what the units run. */
export function currentEntrypoint(): { node: string; cli: string } {
  return { node: fs.realpathSync(process.execPath), cli: fs.realpathSync(CLI_FILE) };
}

/** This installation's version, from its package.json (the Debian package writes its own version there). */
export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }).version;
}
