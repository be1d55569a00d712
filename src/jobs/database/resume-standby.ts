/**
 * Undoing what a pg-backup run changed (it restores no backup: it resumes the standby), shared by
 * the run itself (finally), the next run, and the unit's ExecStopPost (`run pg-cleanup`): resume WAL replay, start
 * repmgrd again, and forget the
 * snapshots of a run that did not succeed.
 */
import type { Context } from '../../context.js';
import { replayPauseState, resumeReplayIfStandby } from '../../tools/postgres.js';
import { startRepmgrd } from './repmgrd.js';
import type { Profile } from '../../profile/model.js';
import { callRestic, removeStaleLocks, type Restic } from '../restic-call.js';
import type { PgRunMarker } from './pg-marker.js';

const RESUME_CHECKS = 20;

/** Resume replay and restart repmgrd as the marker says; the problems, if any (empty: all done). */
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
      else context.log.info('WAL replay resumed');
    } catch (error) {
      problems.push(`could not resume WAL replay: ${(error as Error).message}`);
    }
  }
  if (marker.repmgrdStopped) {
    try {
      await startRepmgrd(context, profile);
      context.log.info('repmgrd started again');
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
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
