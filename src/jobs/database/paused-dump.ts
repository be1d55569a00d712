/**
 * The heart of the database job: hold the HA manager (ha-manager.ts), pause WAL replay (holding
 * it alone does not), write the dump, check that nothing moved, resume, release; then store what
 * was written. A dump counts only if every process exited 0 and every check held: otherwise its
 * snapshot is forgotten and what it wrote removed. The run's marker says, before each change, what
 * to undo, for pg-cleanup or the next run when this one is killed.
 */
import type { Context } from '../../context.js';
import { ExitCode, ToolError } from '../../errors.js';
import { timespanSeconds } from '../../formats/timespan.js';
import type { Profile } from '../../profile/model.js';
import { QueryError, pauseReplay, standbyState, type StandbyState } from '../../tools/postgres.js';
import type { DumpOutcome } from './dump-into-restic.js';
import { pointTags, type DumpRun, type DumpWriter } from './dump-writer.js';
import { removeMarker, standbyRestored, writeMarker, type PgRunMarker } from './pg-marker.js';
import { holdHaManager } from './ha-manager.js';
import { forgetFailedRun, resumeStandby } from './resume-standby.js';
import { DumpFailure, failure, pointInTimeLost, waitUntilPaused } from './standby-checks.js';

/** Run `work`, stopping every program it started once replay has been paused for PG_MAX_PAUSE. */
async function withinPause<T>(
  context: Context,
  profile: Profile,
  pausedAt: number,
  work: () => Promise<T>,
): Promise<T & { pauseExceeded: boolean }> {
  let pauseExceeded = false;
  const remaining = timespanSeconds(profile.values.PG_MAX_PAUSE)! * 1000 - (Date.now() - pausedAt);
  const watchdog = setTimeout(
    () => {
      pauseExceeded = true;
      context.log.error(`replay has been paused for PG_MAX_PAUSE=${profile.values.PG_MAX_PAUSE}: stopping the dump`);
      context.runner.signalAll('SIGTERM');
    },
    Math.max(remaining, 0),
  );
  try {
    return { ...(await work()), pauseExceeded };
  } finally {
    clearTimeout(watchdog);
  }
}

interface Paused {
  outcome: DumpOutcome;
  /** Why the dump does not count, if it does not. */
  verdict?: DumpFailure;
  /** The snapshot's tags, the paused point's included. */
  tags: string[];
  /** The standby is as it was found (replay resumed, the HA manager released). */
  restored: boolean;
}

/** Pause, write, check, resume: the dump's outcome, with the standby resumed whatever happened. */
async function pauseAndDump(run: DumpRun, writer: DumpWriter, marker: PgRunMarker): Promise<Paused> {
  const { context, profile } = run.restic;
  const { paths, log } = context;
  let verdict: DumpFailure | undefined;
  let outcome: DumpOutcome = { warnings: [] };
  let tags = run.tags;
  let pausedAt = Date.now();
  try {
    writeMarker(paths, profile.name, marker);
    await holdHaManager(context, profile, marker);
    writeMarker(paths, profile.name, { ...marker, replayPaused: true });
    marker.replayPaused = true;
    await pauseReplay(context.runner, profile);
    // From the moment pg_wal_replay_pause() has returned to the moment pg_wal_replay_resume() has.
    pausedAt = Date.now();
    const at = await waitUntilPaused(context, profile);
    tags = [...run.tags, ...pointTags(at)];
    const dumped = await withinPause(context, profile, pausedAt, () => writer.write(tags, at));
    outcome = dumped;
    const after = await standbyState(context.runner, profile).catch((error: Error) => error);
    if (dumped.pauseExceeded) {
      verdict = failure(
        `the dump did not finish within PG_MAX_PAUSE=${profile.values.PG_MAX_PAUSE}`,
        ExitCode.ConsistencyLost,
      );
    } else if (dumped.failure) verdict = failure(dumped.failure.message, dumped.failure.exitCode);
    else verdict = pointInTimeLost(at, after);
    if (!verdict) writer.dumped?.(tags);
  } catch (error) {
    if (!(error instanceof ToolError) && !(error instanceof QueryError)) throw error;
    const code = error instanceof QueryError ? ExitCode.ConsistencyLost : (error as ToolError).exitCode;
    verdict = error instanceof DumpFailure ? error : failure(error.message, code);
  }
  let resumedAt: number | undefined;
  const problems = await resumeStandby(context, profile, marker, () => (resumedAt = Date.now()));
  log.info(`replay was paused for ${(((resumedAt ?? Date.now()) - pausedAt) / 1000).toFixed(2)} s`);
  if (problems.length > 0 && !verdict) {
    const message = `the dump is good but the standby was not fully restored: ${problems.join('; ')}`;
    verdict = failure(message, ExitCode.CommandFailed);
  } else if (problems.length > 0) log.error(problems.join('; '));
  return { outcome, verdict, tags, restored: problems.length === 0 };
}

/** Store what the writer put on disk (after the pause), and remove it whatever happens. */
async function store(run: DumpRun, writer: DumpWriter, tags: string[], dumped: DumpOutcome): Promise<DumpOutcome> {
  if (!writer.store) return dumped;
  const stored = await writer.store(tags);
  if (stored.failure) {
    await forgetFailedRun(run.restic, run.runId);
    throw failure(`restic could not store the dump: ${stored.failure.message}`, stored.failure.exitCode);
  }
  return { ...stored, warnings: [...dumped.warnings, ...stored.warnings] };
}

/** The marker of a run that has changed nothing yet: the run, and where its writer puts the dump. */
function newMarker(run: DumpRun, writer: DumpWriter): PgRunMarker {
  return {
    runId: run.runId,
    pid: process.pid,
    start: new Date().toISOString(),
    repmgrdStopped: false,
    patroniPaused: false,
    replayPaused: false,
    ...writer.onDisk,
  };
}

/** The whole run on a standby: pause and dump, then store; nothing of a run that does not count is left. */
export async function dumpPausedStandby(run: DumpRun, writer: DumpWriter): Promise<DumpOutcome> {
  const { context, profile } = run.restic;
  const { paths } = context;
  const marker = newMarker(run, writer);
  const paused = await pauseAndDump(run, writer, marker);
  if (paused.verdict) {
    await writer.finish();
    await forgetFailedRun(run.restic, run.runId);
    // The marker stays while the standby is not restored, so that pg-cleanup or the next run retries.
    if (paused.restored) removeMarker(paths, profile.name);
    throw paused.verdict;
  }
  // The standby is back; the marker now names only what was written and the run, for a kill while restic stores.
  writeMarker(paths, profile.name, standbyRestored(marker));
  try {
    return await store(run, writer, paused.tags, paused.outcome);
  } finally {
    await writer.finish();
    removeMarker(paths, profile.name);
  }
}

/** PG_ON_PRIMARY=dump: the same writer without a pause (each database consistent on its own). */
export async function dumpPrimary(run: DumpRun, writer: DumpWriter, state: StandbyState): Promise<DumpOutcome> {
  const { paths } = run.restic.context;
  const { profile } = run.restic;
  writeMarker(paths, profile.name, newMarker(run, writer));
  const tags = [...run.tags, 'source:primary', `pg-major:${state.serverMajor}`];
  try {
    const dumped = await writer.write(tags, state);
    if (dumped.failure) {
      await forgetFailedRun(run.restic, run.runId);
      throw failure(`the dump from the primary failed: ${dumped.failure.message}`, dumped.failure.exitCode);
    }
    return await store(run, writer, tags, dumped);
  } finally {
    await writer.finish();
    removeMarker(paths, profile.name);
  }
}
