/**
 * One lock per repository, so that backup, forget, prune and check of the same repository never
 * run at once, whichever unit started them. The lock is flock(2) on a file in the state folder,
 * taken by flock(1) on a descriptor this process keeps open: the kernel releases it when the
 * process ends, however it ends, so a killed job never leaves a lock behind. restic runs under the
 * lock hold its descriptor too (heldRepositoryLock): a restic left running by a job killed with
 * SIGKILL keeps the repository locked until it ends, so the next job waits for it instead of
 * meeting restic's own lock.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { CommandError, LockTimeoutError } from '../errors.js';
import { makeFolder, openLockFile } from '../files/write.js';
import { onHost, type Paths } from '../paths.js';
import type { Profile } from '../profile/model.js';
import { timespanSeconds } from '../formats/timespan.js';

// flock(1) exits with this code when the wait ran out (its default, 1, also means other errors).
const CONFLICT = 75;

/** The repository a profile points at, as a stable key. */
function repositoryKey(profile: Profile): string {
  const repository =
    profile.localRepository ?? profile.env.RESTIC_REPOSITORY ?? `file:${profile.env.RESTIC_REPOSITORY_FILE}`;
  return crypto.createHash('sha256').update(repository).digest('hex').slice(0, 16);
}

function lockPath(paths: Paths, profile: Profile): string {
  return path.posix.join(paths.stateDir, 'locks', `${repositoryKey(profile)}.lock`);
}

const held = new WeakMap<Context['runner'], number>();

/** The descriptor of the repository lock this process holds now (for the programs that must hold it too). */
export function heldRepositoryLock(context: Context): number | undefined {
  return held.get(context.runner);
}

/** The lock file of the profile's repository, on this host. */
export function repositoryLockFile(paths: Paths, profile: Profile): string {
  return onHost(paths, lockPath(paths, profile));
}

/** Run work while holding the lock of the profile's repository, waiting up to BACKUP_LOCK_WAIT. */
export async function withRepositoryLock<T>(
  context: Context,
  profile: Profile,
  job: string,
  work: () => Promise<T>,
): Promise<T> {
  const file = repositoryLockFile(context.paths, profile);
  makeFolder(context.paths.root, context.paths.stateDir, 0o755);
  const fd = openLockFile(context.paths.root, lockPath(context.paths, profile), 0o700);
  try {
    const holder = () => {
      const note = Buffer.alloc(512);
      return note.toString('utf8', 0, fs.readSync(fd, note, 0, note.length, 0)).trim() || 'another job';
    };
    const free = await context.runner.run(
      'flock',
      ['--exclusive', '--nonblock', '--conflict-exit-code', String(CONFLICT), '3'],
      { fd3: fd },
    );
    if (free.exitCode === CONFLICT) {
      const wait = profile.values.BACKUP_LOCK_WAIT;
      context.log.info(`waiting up to ${wait} for the repository lock, held by ${holder()}`);
      const waited = await context.runner.run(
        'flock',
        ['--exclusive', '--wait', String(timespanSeconds(wait)), '--conflict-exit-code', String(CONFLICT), '3'],
        { fd3: fd },
      );
      if (waited.exitCode === CONFLICT) {
        throw new LockTimeoutError(
          `the repository of ${profile.name} stayed locked for longer than BACKUP_LOCK_WAIT=${wait}, by ${holder()}; ` +
            'this run did nothing. Let that job finish, or raise BACKUP_LOCK_WAIT in the profile.',
        );
      }
      if (waited.exitCode !== 0)
        throw new CommandError(
          `cannot lock ${file}: ${waited.stderr.trim()}`,
          waited.command,
          waited.exitCode,
          waited.stderr,
        );
    } else if (free.exitCode !== 0) {
      throw new CommandError(`cannot lock ${file}: ${free.stderr.trim()}`, free.command, free.exitCode, free.stderr);
    }
    try {
      fs.ftruncateSync(fd);
      fs.writeSync(
        fd,
        `${job} of profile ${profile.name} (pid ${process.pid}, since ${new Date().toISOString()})\n`,
        0,
      );
    } catch {
      // Only a note for whoever waits next (the disk may be full): the lock itself is held.
    }
    held.set(context.runner, fd);
    return await work();
  } finally {
    held.delete(context.runner);
    fs.closeSync(fd);
  }
}
