/** The Debian package as the README builds it (npm run deb), into a folder of the test's own. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT } from './cli.js';

/** Build restic-systemd_<version>_all.deb into `folder`; its path. */
export function buildPackage(folder: string, version?: string): string {
  const result = spawnSync(
    path.join(PROJECT, 'node_modules/.bin/tsx'),
    [path.join(PROJECT, 'packaging/build-deb.ts'), '--out', folder, ...(version ? ['--version', version] : [])],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`npm run deb failed:\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}
