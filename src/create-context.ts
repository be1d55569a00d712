/** The real context the CLI gives every command (tests build their own, test/helpers/context.ts). */
import { isSystemdBooted, type Context } from './context.js';
import { UsageError } from './errors.js';
import { createRunner } from './exec/runner.js';
import { createLogger, maskSecrets, notePrinted } from './log.js';
import { createPaths } from './paths.js';
import { currentEntrypoint } from './package-files.js';

export interface GlobalOptions {
  root?: string;
  configDir?: string;
  verbose?: boolean;
  json?: boolean;
}

export function createContext(options: GlobalOptions): Context {
  for (const [option, value] of [
    ['root', options.root],
    ['config-dir', options.configDir],
  ] as const) {
    // A newline in a folder would become a line of its own in the units that name it.
    if (typeof value === 'string' && /[\u0000-\u001f\u007f]/.test(value))
      throw new UsageError(
        `--${option} ${JSON.stringify(value)} holds a control character (a newline?): give a plain folder`,
      );
  }
  const log = createLogger(options.verbose ? 'debug' : 'info');
  return {
    paths: createPaths({ root: options.root, configDir: options.configDir }),
    runner: createRunner(log),
    log,
    // The one way results leave the process: whatever a profile's secret reached, it is masked here.
    print: (text) => {
      notePrinted();
      process.stdout.write(`${maskSecrets(text)}\n`);
    },
    json: options.json === true,
    systemdBooted: isSystemdBooted,
    entrypoint: currentEntrypoint,
  };
}
