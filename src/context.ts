/**
 * What every command receives: where things are, how to run programs, where to print. Tests build
 * their own context (a temp root, a recording runner); the CLI builds the real one.
 */
import fs from 'node:fs/promises';
import { EnvironmentError } from './errors.js';
import type { Runner } from './exec/runner.js';
import type { Logger } from './log.js';
import type { Paths } from './paths.js';

/** The absolute command line units run: the node binary and the installed CLI, resolved at install time (PATH inside
 * systemd does not matter). */
export interface Entrypoint {
  node: string;
  cli: string;
}

export interface Context {
  paths: Paths;
  runner: Runner;
  log: Logger;
  /** Prints a result line (stdout). */
  print: (text: string) => void;
  json: boolean;
  /** True when PID 1 is systemd (the /run/systemd/system test of sd_booted(3)). */
  systemdBooted: () => Promise<boolean>;
  entrypoint: () => Entrypoint;
}

export async function isSystemdBooted(): Promise<boolean> {
  return fs.access('/run/systemd/system').then(
    () => true,
    () => false,
  );
}

/** Refuse, before anything is written, to change units of a host whose systemd is not running. */
export async function assertSystemdOrOffline(context: Context, command: string): Promise<void> {
  if (context.paths.offline || (await context.systemdBooted())) return;
  throw new EnvironmentError(
    `systemd is not running on this host (/run/systemd/system is missing), so units cannot be reloaded or started; ` +
      `nothing was changed. To write the units into a root folder without starting them (an image, a container), ` +
      `run: restic-systemd ${command} --root DIR …`,
  );
}
