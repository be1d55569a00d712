/**
 * The absolute command line that units run: the node binary and the installed CLI, resolved at
 * install time so that PATH inside systemd does not matter.
 */
import fs from 'node:fs';
import { CLI_FILE } from '../package-files.js';

export interface Entrypoint {
  node: string;
  cli: string;
}

/** The node running now and the CLI of this installation (dist/cli.js). */
export function currentEntrypoint(): Entrypoint {
  return {
    node: fs.realpathSync(process.execPath),
    cli: fs.realpathSync(CLI_FILE),
  };
}
