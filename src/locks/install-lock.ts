/**
 * One install or uninstall at a time on a system: otherwise an uninstall that found no other
 * profile could remove the templates while an install of another profile enables its timer, which
 * would be left without its units. flock(2) on <state>/install.lock, released by the kernel when
 * the process ends however it ends.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { LockTimeoutError } from '../errors.js';
import { makeFolder, openLockFile } from '../files/write.js';

const WAIT_SECONDS = 120;
// flock(1) exits with this code when the wait ran out.
const CONFLICT = 75;

export async function withInstallLock<T>(context: Context, work: () => Promise<T>): Promise<T> {
  const { paths } = context;
  makeFolder(paths.root, paths.stateDir, 0o755);
  const fd = openLockFile(paths.root, path.posix.join(paths.stateDir, 'install.lock'), 0o755);
  try {
    const locked = await context.runner.run(
      'flock',
      ['--exclusive', '--wait', String(WAIT_SECONDS), '--conflict-exit-code', String(CONFLICT), '3'],
      { fd3: fd },
    );
    if (locked.exitCode !== 0) {
      throw new LockTimeoutError(
        `another restic-systemd install or uninstall has been running for ${WAIT_SECONDS} s; nothing was ` +
          `changed: try again once it has ended`,
      );
    }
    return await work();
  } finally {
    fs.closeSync(fd);
  }
}
