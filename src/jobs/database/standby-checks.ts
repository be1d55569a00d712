/**
 * What must hold of the standby before its replay is paused, while it is paused, and after the
 * dump: in recovery, no HA manager that would undo the pause, replay not paused by anyone else,
 * streaming, little unreplayed WAL, room for the WAL that keeps arriving; then paused for real;
 * then nothing moved while the dump ran.
 */
import { formatBytes } from '../../reporting/format.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context.js';
import { ExitCode, JobError, type ExitCode as Code } from '../../errors.js';
import { QueryError, haManagerSigns, standbyState, type StandbyState } from '../../tools/postgres.js';
import type { Profile } from '../../profile/model.js';

const PAUSE_WAIT_MS = 30_000;

/** A reason the run does not count, with its exit code. */
export class DumpFailure extends JobError {}

export const failure = (message: string, code: Code) => new DumpFailure(message, code);

/** The checks before anything is changed; throws a DumpFailure saying why the standby cannot be used. */
export async function preflight(context: Context, profile: Profile): Promise<StandbyState> {
  let state: StandbyState;
  try {
    state = await standbyState(context.runner, profile);
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    throw failure(
      `cannot query the standby (PGHOST=${profile.env.PGHOST ?? ''} PGPORT=${profile.env.PGPORT ?? ''}): ` +
        `${error.message}`,
      ExitCode.StandbyNotReady,
    );
  }
  if (!state.inRecovery) return state;
  await refuseUnheldPatroni(context, profile);
  if (state.pauseState !== 'not paused') {
    throw failure(
      `WAL replay is already "${state.pauseState}", by someone else or by a run that is not this job's: it is ` +
        `left as it is. Resume it with SELECT pg_wal_replay_resume() once you know why it was paused.`,
      ExitCode.ReplayAlreadyPaused,
    );
  }
  if (state.receiverStatus !== 'streaming') {
    throw failure(
      `the standby is not streaming from its primary (WAL receiver: ${state.receiverStatus || 'none'}): its ` +
        `data would be stale`,
      ExitCode.StandbyNotReady,
    );
  }
  if (state.lagBytes > profile.values.PG_MAX_REPLAY_LAG) {
    throw failure(
      `the standby has ${formatBytes(state.lagBytes)} of WAL received but not replayed, more than PG_MAX_REPLAY_LAG`,
      ExitCode.StandbyNotReady,
    );
  }
  const walFolder = path.join(state.dataDirectory, 'pg_wal');
  if (state.dataDirectory && fs.existsSync(walFolder)) {
    const stats = fs.statfsSync(walFolder);
    const free = stats.bavail * stats.bsize;
    if (free < profile.values.PG_MIN_FREE_WAL_SPACE) {
      throw failure(
        `only ${formatBytes(free)} are free for ${walFolder}, less than PG_MIN_FREE_WAL_SPACE: WAL keeps arriving ` +
          `while replay is paused`,
        ExitCode.StandbyNotReady,
      );
    }
  }
  return state;
}

/** Patroni resumes a paused replay unless its cluster is in maintenance mode, which only PG_HA_MANAGER=patroni sets. */
async function refuseUnheldPatroni(context: Context, profile: Profile): Promise<void> {
  const manager = profile.values.PG_HA_MANAGER;
  const signs = await haManagerSigns(context.runner, profile).catch((error: unknown) => {
    if (!(error instanceof QueryError)) throw error;
    throw failure(`cannot ask the standby which HA manager runs beside it: ${error.message}`, ExitCode.StandbyNotReady);
  });
  if (signs.patroni && manager !== 'patroni') {
    throw failure(
      `the standby is managed by Patroni (its connections are open on it), which resumes a paused replay within ` +
        `seconds unless the cluster is in maintenance mode: set PG_HA_MANAGER=patroni and PG_PATRONI_CONFIG ` +
        `(PG_HA_MANAGER is ${manager}). Nothing was paused`,
      ExitCode.StandbyNotReady,
    );
  }
  if (manager === 'patroni' && !signs.patroni)
    context.log.warn('PG_HA_MANAGER=patroni, but no connection of Patroni is open on the standby: is Patroni running?');
}

/** After pg_wal_replay_pause(): wait until replay has really stopped; the standby's state at that point. */
export async function waitUntilPaused(context: Context, profile: Profile): Promise<StandbyState> {
  const deadline = Date.now() + PAUSE_WAIT_MS;
  for (;;) {
    // The whole state at once: the paused point's position is read by the same call that sees it paused.
    const standby = await standbyState(context.runner, profile);
    const state = standby.inRecovery ? standby.pauseState : 'not in recovery';
    if (state === 'paused') return standby;
    if (state === 'not in recovery')
      throw failure('the node left recovery (was promoted) while replay was being paused', ExitCode.ConsistencyLost);
    if (Date.now() > deadline)
      throw failure(
        `WAL replay did not reach "paused" within ${PAUSE_WAIT_MS / 1000} s (it is "${state}")`,
        ExitCode.ConsistencyLost,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Why the dump is not of one point in time, if it is not: the node was promoted, restarted or resumed during it. */
export function pointInTimeLost(before: StandbyState, after: StandbyState | Error): DumpFailure | undefined {
  if (after instanceof Error)
    return failure(`the standby could not be checked after the dump: ${after.message}`, ExitCode.ConsistencyLost);
  const moved: string[] = [];
  if (!after.inRecovery) moved.push('the node was promoted during the dump');
  else if (after.pauseState !== 'paused') moved.push(`replay is "${after.pauseState}" (was the standby restarted?)`);
  if (after.replayLsn !== before.replayLsn)
    moved.push(`the replay position moved from ${before.replayLsn} to ${after.replayLsn}`);
  if (after.inRecovery && after.timeline !== before.timeline)
    moved.push(`the timeline changed from ${before.timeline} to ${after.timeline}`);
  return moved.length > 0
    ? failure(`the dump is not of one point in time: ${moved.join('; ')}`, ExitCode.ConsistencyLost)
    : undefined;
}
