/**
 * Undoing what a pg-backup run changed (it restores no backup: it resumes the standby), shared by
 * the run itself, the next run and the unit's ExecStopPost (`run pg-cleanup`): resume WAL replay,
 * release the HA manager (ha-manager.ts), forget the snapshots of a run that did not succeed, remove what it wrote.
 */
import type { Context } from '../../context.js';
import { ExitCode, JobError } from '../../errors.js';
import { processAlive } from '../../exec/processes.js';
import type { Profile } from '../../profile/model.js';
import { replayPauseState, resumeReplayIfStandby } from '../../tools/postgres.js';
import { callRestic, removeStaleLocks, type Restic } from '../restic-call.js';
import { removeArchive } from './archive-dump.js';
import { readMarker, removeMarker, writeMarker, type PgRunMarker } from './pg-marker.js';
import { releaseHaManager } from './ha-manager.js';
import { removeSpoolFile } from './spool.js';

const RESUME_CHECKS = 20;

/** Resume replay, then release the HA manager, as the marker says; the problems, if any (empty: all done). */
export async function resumeStandby(
  context: Context,
  profile: Profile,
  marker: PgRunMarker,
  onResumed?: () => void,
): Promise<string[]> {
  const problems: string[] = [];
  if (marker.replayPaused) {
    try {
      await resumeReplayIfStandby(context.runner, profile);
      onResumed?.();
      let state = await replayPauseState(context.runner, profile);
      for (let check = 0; check < RESUME_CHECKS && state !== 'not paused' && state !== 'not in recovery'; check++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        state = await replayPauseState(context.runner, profile);
      }
      if (state !== 'not paused' && state !== 'not in recovery')
        problems.push(`WAL replay is still "${state}" after pg_wal_replay_resume()`);
      else {
        marker.replayPaused = false;
        context.log.info('WAL replay resumed');
      }
    } catch (error) {
      problems.push(`could not resume WAL replay: ${(error as Error).message}`);
    }
  }
  problems.push(...(await releaseHaManager(context, profile, marker)));
  // What was undone is struck from the marker at once, all together: a later retry must not undo it
  // again (a maintenance mode someone has switched on since is not this run's).
  writeMarker(context.paths, profile.name, marker);
  return problems;
}

/** Forget every snapshot tagged with this run's id: a failed dump must leave no snapshot. */
export async function forgetRunSnapshots(restic: Restic, runId: string): Promise<string[]> {
  // The failed run's restic may have died holding its lock (broken pipe, SIGTERM), and forget needs
  // an exclusive one: remove stale locks first (live ones are never touched).
  await removeStaleLocks(restic);
  const listed = await callRestic(restic, 'listing the snapshots of the failed run', [
    'snapshots',
    '--json',
    '--tag',
    `run:${runId}`,
  ]);
  const ids = (JSON.parse(listed.stdout || '[]') as Array<{ id: string }>).map((snapshot) => snapshot.id);
  if (ids.length > 0) {
    await callRestic(restic, 'forgetting the snapshot of the failed run', ['forget', '--', ...ids]);
    restic.context.log.warn(`forgot the snapshot(s) of the failed run: ${ids.map((id) => id.slice(0, 8)).join(' ')}`);
  }
  return ids;
}

/**
 * Forget the failed run's snapshot; if restic cannot (the same fault that failed the run, e.g. a
 * wrong password), say so without hiding the run's own failure: no snapshot was made then either.
 */
export async function forgetFailedRun(restic: Restic, runId: string): Promise<void> {
  try {
    await forgetRunSnapshots(restic, runId);
  } catch (error) {
    restic.context.log.error(
      `could not look for a snapshot of the failed run (tag run:${runId}) to forget: ${(error as Error).message}`,
    );
  }
}

/** Remove what a run wrote to disk (its spool file, its archive folder), as its marker names it. */
export async function removeRunFiles(context: Context, profile: Profile, marker: PgRunMarker): Promise<void> {
  removeSpoolFile(context.paths, marker.spool);
  if (marker.archive) await removeArchive(context, marker.archive);
}

/** A marker left by a run that is gone (killed, crashed) proves the pause was ours: undo it first. */
export async function recoverEarlierRun(restic: Restic): Promise<void> {
  const { context, profile } = restic;
  const earlier = readMarker(context.paths, profile.name);
  if (!earlier || processAlive(earlier.pid)) return;
  context.log.warn(`an earlier run (pid ${earlier.pid}, ${earlier.start}) did not finish: undoing what it changed`);
  const problems = await resumeStandby(context, profile, earlier);
  if (problems.length > 0) {
    throw new JobError(`could not undo an earlier run's changes: ${problems.join('; ')}`, ExitCode.CommandFailed);
  }
  await forgetRunSnapshots(restic, earlier.runId);
  await removeRunFiles(context, profile, earlier);
  removeMarker(context.paths, profile.name);
}
