/**
 * Helpers for tests against real restic: a profile with a local repository and data to back up, a
 * recording wrapper around the real restic (its argv, to prove no secret is passed there), and
 * reading snapshots back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, type CliResult } from './cli.js';
import { writeProfile } from './temp-root.js';

export interface ResticSetup {
  root: string;
  name: string;
  password: string;
  /** Host path of the data folder backed up (BACKUP_PATHS=/data). */
  data: string;
  /** The restic wrapper's argv log. */
  argvLog: string;
  env: NodeJS.ProcessEnv;
  cli: (...args: string[]) => CliResult;
}

/** A profile `name` under root: repository /srv/repo, password file /etc/restic/<name>.password, BACKUP_PATHS=/data. */
export function resticSetup(root: string, options: { name?: string; extra?: string; password?: string; inlinePassword?: boolean } = {}): ResticSetup {
  const name = options.name ?? 'myconf';
  const password = options.password ?? `pw-${Math.random().toString(36).slice(2)}-secret`;
  const data = path.join(root, 'data');
  fs.mkdirSync(data, { recursive: true });
  fs.writeFileSync(path.join(data, 'hello.txt'), 'hello\n');
  const passwordLine = options.inlinePassword ? `RESTIC_PASSWORD=${password}` : `RESTIC_PASSWORD_FILE=/etc/restic/${name}.password`;
  if (!options.inlinePassword) fs.writeFileSync(path.join(root, 'etc/restic', `${name}.password`), `${password}\n`, { mode: 0o600 });
  writeProfile(root, name, `RESTIC_REPOSITORY=/srv/repo\n${passwordLine}\nBACKUP_PATHS=/data\n${options.extra ?? ''}`);
  const argvLog = path.join(root, 'restic-argv.log');
  const wrapper = path.join(root, 'restic-recorder');
  fs.writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec restic "$@"\n`, { mode: 0o755 });
  const env = { RESTIC_BIN: wrapper };
  return { root, name, password, data, argvLog, env, cli: (...args) => runCli(['--root', root, ...args], env) };
}

export interface Snapshot {
  id: string;
  short_id: string;
  hostname: string;
  tags?: string[];
  paths: string[];
}

/** The repository's snapshots, read with the profile's own environment through `exec`. */
export function snapshots(setup: ResticSetup): Snapshot[] {
  const result = runCli(['exec', setup.name, '--root', setup.root, '--', 'restic', 'snapshots', '--json']);
  if (result.exitCode !== 0) throw new Error(`restic snapshots failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Snapshot[];
}

export const THIS_HOST = os.hostname();
