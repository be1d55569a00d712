/**
 * The wire format between the database job and `restic-systemd internal-pipeline`, which restic
 * 0.17+ runs for it: the dump's stages as JSON in one variable of restic's environment.
 */
import fs from 'node:fs';
import { UsageError } from '../errors.js';

/** The variable through which the job hands the stages to this command. */
export const STAGES_VARIABLE = 'RESTIC_SYSTEMD_DUMP_STAGES';

/**
 * The repository lock restic holds reaches this command too (a descriptor is inherited by every
 * child): named here by number and file, so that it closes it before the dump's stages start, which
 * run as another account and must not hold root's lock.
 */
export const HELD_LOCK_VARIABLE = 'RESTIC_SYSTEMD_HELD_LOCK';

/** The value of HELD_LOCK_VARIABLE for a lock open here as `fd` and in the child as `childFd`. */
export function heldLockNote(fd: number, childFd: number): string {
  const { dev, ino } = fs.fstatSync(fd, { bigint: true });
  return `${childFd}:${dev}:${ino}`;
}

/** Close the lock HELD_LOCK_VARIABLE names, only when that descriptor is still that file. */
export function closeHeldLock(note: string | undefined): void {
  const match = /^(\d+):(\d+):(\d+)$/.exec(note ?? '');
  if (!match) return;
  const fd = Number(match[1]);
  if (fd < 3) return;
  try {
    const { dev, ino } = fs.fstatSync(fd, { bigint: true });
    if (String(dev) === match[2] && String(ino) === match[3]) fs.closeSync(fd);
  } catch {
    // Not open here: nothing to close.
  }
}

/**
 * One stage as the job describes it: the binary, its arguments, the variables it gets (none of
 * them secret), and the names of those it takes from this process's environment (libpq's, whose
 * password must not travel through here).
 */
export interface StageSpec {
  program: string;
  args: string[];
  env: Record<string, string>;
  keep: string[];
}

export function readStageSpec(text: string | undefined): StageSpec[] {
  let spec: unknown;
  try {
    spec = JSON.parse(text ?? '');
  } catch {
    spec = undefined;
  }
  const valid =
    Array.isArray(spec) &&
    spec.length > 0 &&
    spec.every(
      (stage: StageSpec) =>
        typeof stage?.program === 'string' &&
        Array.isArray(stage.args) &&
        stage.args.every((arg) => typeof arg === 'string') &&
        typeof stage.env === 'object' &&
        Array.isArray(stage.keep),
    );
  if (!valid)
    throw new UsageError(
      `internal-pipeline is what restic runs for the database job; it needs ${STAGES_VARIABLE} and is not ` +
        `meant to be run by hand`,
    );
  return spec as StageSpec[];
}
