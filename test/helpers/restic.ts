/**
 * Helpers for tests against real restic: a profile with a local repository and data to back up, a
 * recording wrapper around the real restic of a chosen Debian release (its argv, to prove no secret
 * is passed there), and reading snapshots back.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, type CliResult } from './cli.js';
import type { ResticRelease } from './global-setup.js';
import { cheapenRepositoryKey } from './restic-key.js';
import { RESTIC_RELEASES } from './restic-versions.js';
import { writeProfile } from './temp-root.js';

export interface ResticSetup {
  root: string;
  name: string;
  password: string;
  release: ResticRelease;
  /** Host path of the data folder backed up (BACKUP_PATHS=/data). */
  data: string;
  /** The restic wrapper's argv log. */
  argvLog: string;
  /** RESTIC_BIN: the recording wrapper around this release's restic. */
  env: NodeJS.ProcessEnv;
  cli: (...args: string[]) => CliResult;
  /** `init`, then a cheap key derivation for the rest of the test (test/helpers/restic-key.ts). */
  init: () => CliResult;
  /** For tests of something else than init: /srv/repo copied from a repository made once per release (fast). */
  createRepository: () => void;
}

const TEMPLATE_PASSWORD = 'template-password';
const templates = new Map<string, string>();

/** A repository made by this release's `restic init` once per test process, to copy. */
function templateRepository(release: ResticRelease): string {
  let repository = templates.get(release.binary);
  if (!repository) {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-template-'));
    process.on('exit', () => fs.rmSync(folder, { recursive: true, force: true }));
    repository = path.join(folder, 'repo');
    const init = spawnSync(release.binary, ['init', '-q'], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        RESTIC_REPOSITORY: repository,
        RESTIC_PASSWORD: TEMPLATE_PASSWORD,
        RESTIC_CACHE_DIR: path.join(folder, 'cache'),
      },
    });
    if (init.status !== 0) throw new Error(`restic ${release.version} init failed: ${init.stderr}`);
    templates.set(release.binary, repository);
  }
  return repository;
}

/** A repository at `repository` with this password, copied from one made by the release's `restic init` (fast). */
export function createRepository(release: ResticRelease, repository: string, password: string): void {
  fs.cpSync(templateRepository(release), repository, { recursive: true });
  cheapenRepositoryKey(repository, TEMPLATE_PASSWORD, password);
}

/** A wrapper script that logs its argv, then runs the release's restic. */
export function recordingRestic(folder: string, release: ResticRelease): { wrapper: string; argvLog: string } {
  const argvLog = path.join(folder, 'restic-argv.log');
  const wrapper = path.join(folder, 'restic-recorder');
  fs.writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${release.binary}' "$@"\n`, {
    mode: 0o755,
  });
  return { wrapper, argvLog };
}

/** A profile `name` under root: repository /srv/repo, password file /etc/restic/<name>.password, BACKUP_PATHS=/data. */
export function resticSetup(
  root: string,
  options: { name?: string; extra?: string; password?: string; inlinePassword?: boolean; release?: ResticRelease } = {},
): ResticSetup {
  const name = options.name ?? 'myconf';
  const release = options.release ?? RESTIC_RELEASES[0]!;
  const password = options.password ?? `pw-${Math.random().toString(36).slice(2)}-secret`;
  const data = path.join(root, 'data');
  fs.mkdirSync(data, { recursive: true });
  fs.writeFileSync(path.join(data, 'hello.txt'), 'hello\n');
  const passwordLine = options.inlinePassword
    ? `RESTIC_PASSWORD=${password}`
    : `RESTIC_PASSWORD_FILE=/etc/restic/${name}.password`;
  if (!options.inlinePassword)
    fs.writeFileSync(path.join(root, 'etc/restic', `${name}.password`), `${password}\n`, { mode: 0o600 });
  writeProfile(root, name, `RESTIC_REPOSITORY=/srv/repo\n${passwordLine}\nBACKUP_PATHS=/data\n${options.extra ?? ''}`);
  const { wrapper, argvLog } = recordingRestic(root, release);
  const env = { RESTIC_BIN: wrapper };
  const cli = (...args: string[]) => runCli(['--root', root, ...args], env);
  return {
    root,
    name,
    password,
    release,
    data,
    argvLog,
    env,
    cli,
    init: () => {
      const result = cli('init', name);
      if (result.exitCode === 0) cheapenRepositoryKey(path.join(root, 'srv/repo'), password);
      return result;
    },
    createRepository: () => createRepository(release, path.join(root, 'srv/repo'), password),
  };
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
  const result = runCli(['exec', setup.name, '--root', setup.root, '--', setup.release.binary, 'snapshots', '--json']);
  if (result.exitCode !== 0) throw new Error(`restic snapshots failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Snapshot[];
}

export const THIS_HOST = os.hostname();

/**
 * A restic that, for one subcommand, first creates `started` and sleeps `seconds`, then runs the real one:
 * a test acts while that call is under way. Written to `file`, which is returned.
 */
export function slowRestic(file: string, binary: string, subcommand: string, started: string, seconds: number): string {
  fs.writeFileSync(
    file,
    `#!/bin/sh\ncase " $* " in *" ${subcommand} "*) : > '${started}'; sleep ${seconds};; esac\nexec '${binary}' "$@"\n`,
    { mode: 0o755 },
  );
  return file;
}
