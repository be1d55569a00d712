/**
 * The throw-away cluster pg-verify restores a dump into. Everything inside it is done as its OS
 * user (PG_OS_USER, default postgres): root only makes an empty private folder on disk (not a
 * RAM-backed /tmp) and hands it over, then never writes into, reads through or deletes anything in
 * it, because that user could have put a link anywhere in it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context.js';
import { EnvironmentError, ExitCode, JobError } from '../../errors.js';
import { baseEnvironment, type RunResult } from '../../exec/runner.js';

/** The bootstrap superuser: not "postgres", so that the dump's DROP/CREATE ROLE postgres apply cleanly. */
export const VERIFIER = 'restore_verifier';
export const SCRATCH_PORT = '5432';
// On disk: a restore the size of the cluster must not fill RAM (Debian 13's /tmp is a tmpfs).
const SCRATCH_PARENT = '/var/tmp';

export interface ScratchCluster {
  folder: string;
  user: string;
  bindir: string;
  /** libpq's variables to reach it: its socket folder, no TCP. */
  env: Record<string, string>;
}

function asUser(context: Context, user: string, program: string, args: string[]): Promise<RunResult> {
  return context.runner.run('runuser', ['-u', user, '--', program, ...args], {});
}

async function numericId(context: Context, flag: '-u' | '-g', user: string): Promise<number> {
  const result = await context.runner.run({ program: 'id' }, [flag, '--', user], {});
  if (result.exitCode !== 0)
    throw new EnvironmentError(`the user ${user} (PG_OS_USER) does not exist here: ${result.stderr.trim()}`);
  return Number(result.stdout.trim());
}

export async function startScratchCluster(context: Context, user: string, bindir: string): Promise<ScratchCluster> {
  if (!fs.existsSync(path.join(bindir, 'initdb'))) {
    const major = /postgresql\/(\d+)\/bin/.exec(bindir)?.[1];
    const fix = major
      ? `install PostgreSQL ${major}'s server programs (apt-get install postgresql-${major})`
      : 'set PG_BINDIR to the folder of initdb and pg_ctl';
    throw new EnvironmentError(
      `${path.join(bindir, 'initdb')} is missing: ${fix} to restore the dump into a scratch cluster`,
    );
  }
  const [uid, gid] = [await numericId(context, '-u', user), await numericId(context, '-g', user)];
  const folder = fs.mkdtempSync(path.join(SCRATCH_PARENT, 'restic-systemd-verify-'));
  fs.chownSync(folder, uid, gid);
  const scratch: ScratchCluster = {
    folder,
    user,
    bindir,
    env: { ...baseEnvironment(), PGHOST: folder, PGPORT: SCRATCH_PORT, PGUSER: VERIFIER, PGDATABASE: 'postgres' },
  };
  try {
    const data = path.join(folder, 'data');
    const init = await asUser(context, user, path.join(bindir, 'initdb'), [
      '-D',
      data,
      '-U',
      VERIFIER,
      '-A',
      'trust',
      '--no-instructions',
    ]);
    if (init.exitCode !== 0)
      throw new JobError(`initdb of the scratch cluster failed: ${init.stderr.trim()}`, ExitCode.CommandFailed);
    // The settings go on the server's command line: nothing is written into the cluster's files.
    const settings =
      `-c listen_addresses='' -c port=${SCRATCH_PORT} -c unix_socket_directories='${folder}' -c ` + `fsync=off`;
    const start = await asUser(context, user, path.join(bindir, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      path.join(folder, 'server.log'),
      '-o',
      settings,
      '-w',
      'start',
    ]);
    if (start.exitCode !== 0)
      throw new JobError(`the scratch cluster did not start: ${start.stderr.trim()}`, ExitCode.CommandFailed);
    return scratch;
  } catch (error) {
    await removeScratchCluster(context, scratch);
    throw error;
  }
}

/** Stop it and remove its folder, both as its user. */
export async function removeScratchCluster(context: Context, scratch: ScratchCluster): Promise<void> {
  const data = path.join(scratch.folder, 'data');
  // pg_ctl says so when the server is not running (a failed start): nothing to stop then.
  await asUser(context, scratch.user, path.join(scratch.bindir, 'pg_ctl'), [
    '-D',
    data,
    '-m',
    'immediate',
    '-w',
    'stop',
  ]);
  const removed = await asUser(context, scratch.user, 'rm', ['-rf', '--one-file-system', '--', scratch.folder]);
  if (removed.exitCode !== 0 || fs.lstatSync(scratch.folder, { throwIfNoEntry: false })) {
    context.log.error(`could not remove the scratch cluster ${scratch.folder}: ${removed.stderr.trim()}`);
  }
}
