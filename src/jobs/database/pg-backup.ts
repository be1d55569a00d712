/**
 * The pg-backup@ job: a point-in-time-consistent pg_dumpall from a paused streaming standby into
 * restic, failing closed. The procedure follows the operating guide's intent with its defects
 * fixed: stop the local repmgrd, pause WAL replay (stopping repmgrd alone does not), dump, check
 * nothing moved, resume, start repmgrd; a snapshot counts only if every process exited 0 and every
 * check held, otherwise it is forgotten (restic 0.17 and newer do not even save it).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Context } from '../../context.js';
import { ExitCode, JobError, ToolError } from '../../errors.js';
import {
  COMPRESSORS,
  QueryError,
  SPOOL_FORMATS,
  dumpStages,
  dumpStderrWorthShowing,
  pauseReplay,
  spoolStages,
  standbyState,
  unspoolStages,
  type StandbyState,
} from '../../tools/postgres.js';
import { stopRepmgrd } from './repmgrd.js';
import { forgetArgs, jobTags, snapshotHost } from '../../tools/restic.js';
import { toolAvailable } from '../../exec/tools.js';
import { withRepositoryLock } from '../../locks/repository-lock.js';
import { onHost } from '../../paths.js';
import type { Profile } from '../../profile/model.js';
import { timespanSeconds } from '../../formats/timespan.js';
import type { JobOutcome } from '../job.js';
import { callRestic, openRestic, removeStaleLocks, type Restic } from '../restic-call.js';
import { fullSnapshotId } from '../snapshot-ids.js';
import { dumpIntoRestic, type DumpOutcome } from './dump-into-restic.js';
import { processAlive } from '../../exec/processes.js';
import { readMarker, removeMarker, writeMarker, type PgRunMarker } from './pg-marker.js';
import { forgetRunSnapshots, resumeStandby } from './resume-standby.js';
import { chooseSpool, createSpoolFile, removeSpoolFile, spoolBytes, spoolFile } from './spool.js';
import { DumpFailure, failure, pointInTimeLost, preflight, waitUntilPaused } from './standby-checks.js';

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

const dumpFileName = (profile: Profile, host: string) =>
  `postgres-${host}${COMPRESSORS[profile.values.PG_DUMP_COMPRESSION].suffix}`;

/** The dump into restic, stopped if replay has been paused for PG_MAX_PAUSE by then. */
function dumpWithinPause(
  restic: Restic,
  tags: string[],
  host: string,
  pausedAt: number,
): Promise<DumpOutcome & { pauseExceeded: boolean }> {
  const { context, profile } = restic;
  return withinPause(context, profile, pausedAt, () =>
    dumpIntoRestic(restic, dumpStages(profile, { parallelGzip: toolAvailable('pigz') }), {
      fileName: dumpFileName(profile, host),
      host,
      tags,
    }),
  );
}

/** The dump into the spool file (PG_DUMP_MODE=spool): as long as pg_dumpall runs, not as long as restic takes. */
function spoolWithinPause(
  context: Context,
  profile: Profile,
  file: string,
  pausedAt: number,
): Promise<DumpOutcome & { pauseExceeded: boolean }> {
  return withinPause(context, profile, pausedAt, async (): Promise<DumpOutcome> => {
    const fd = createSpoolFile(context.paths, file);
    let results;
    try {
      results = await context.runner.pipeline(spoolStages(profile), { stdout: fd });
    } finally {
      fs.closeSync(fd);
    }
    const warnings = dumpStderrWorthShowing(results[0]!.stderr.split('\n'));
    // The last stage that failed is the cause: a compressor that cannot write (disk full) breaks the dump's pipe too.
    const failed = results.filter((result) => result.exitCode !== 0 || result.signal).at(-1);
    if (!failed) return { warnings };
    const said = failed.stderr.trim().split('\n').slice(-5).join('\n');
    return {
      warnings,
      failure: {
        message:
          `${failed.command} failed while spooling (exit ` +
          `${failed.exitCode}${failed.signal ? `, ${failed.signal}` : ''})${said ? `:\n${said}` : ''}`,
        exitCode: ExitCode.DumpFailed,
      },
    };
  });
}

/**
 * Forget the failed run's snapshot; if restic cannot (the same fault that failed the run, e.g. a
 * wrong password), say so without hiding the run's own failure: no snapshot was made then either.
 */
async function forgetFailedRun(restic: Restic, runId: string): Promise<void> {
  try {
    await forgetRunSnapshots(restic, runId);
  } catch (error) {
    restic.context.log.error(
      `could not look for a snapshot of the failed run (tag run:${runId}) to forget: ${(error as Error).message}`,
    );
  }
}

/** A marker left by a run that is gone (killed, crashed) proves the pause was ours: undo it first. */
async function recoverEarlierRun(restic: Restic): Promise<void> {
  const { context, profile } = restic;
  const earlier = readMarker(context.paths, profile.name);
  if (!earlier || processAlive(earlier.pid)) return;
  context.log.warn(`an earlier run (pid ${earlier.pid}, ${earlier.start}) did not finish: undoing what it changed`);
  const problems = await resumeStandby(context, profile, earlier);
  if (problems.length > 0)
    throw failure(`could not undo an earlier run's changes: ${problems.join('; ')}`, ExitCode.CommandFailed);
  await forgetRunSnapshots(restic, earlier.runId);
  removeSpoolFile(context.paths, earlier.spool);
  removeMarker(context.paths, profile.name);
}

function pointTags(state: StandbyState): string[] {
  const tags = [`lsn:${state.replayLsn}`, `timeline:${state.timeline}`];
  if (state.replayTimestamp) tags.push(`replayed-until:${new Date(state.replayTimestamp).toISOString()}`);
  return tags;
}

/**
 * Pause, dump, check, resume: the dump's outcome, with the standby restored whatever happened.
 * With a spool, the pause covers pg_dumpall into the spool only; restic starts reading the spool
 * as soon as it is complete, under the same tags (the paused point's LSN and timeline), while the
 * checks run and the standby is restored. (Read while still being written, restic would take the
 * cores pg_dumpall needs and make the pause longer: measured in docs/benchmarks.md.)
 */
async function dumpPausedStandby(
  restic: Restic,
  tags: string[],
  host: string,
  runId: string,
  spool: boolean,
): Promise<DumpOutcome> {
  const { context, profile } = restic;
  const { paths, log } = context;
  const marker: PgRunMarker = {
    runId,
    pid: process.pid,
    start: new Date().toISOString(),
    repmgrdStopped: false,
    replayPaused: false,
    ...(spool ? { spool: spoolFile(paths, profile, runId) } : {}),
  };
  let verdict: DumpFailure | undefined;
  let outcome: DumpOutcome = { warnings: [] };
  let pausedAt = Date.now();
  let restored: boolean;
  let dumpTags: string[];
  let reading: Promise<DumpOutcome> | undefined;
  const stopReading = new AbortController();
  try {
    writeMarker(paths, profile.name, marker);
    marker.repmgrdStopped = await stopRepmgrd(context, profile);
    writeMarker(paths, profile.name, { ...marker, replayPaused: true });
    marker.replayPaused = true;
    await pauseReplay(context.runner, profile);
    // From the moment pg_wal_replay_pause() has returned to the moment pg_wal_replay_resume() has.
    pausedAt = Date.now();
    const at = await waitUntilPaused(context, profile);
    dumpTags = [...tags, ...pointTags(at), `pg-major:${at.serverMajor}`];
    const dumped = marker.spool
      ? await spoolWithinPause(context, profile, marker.spool, pausedAt)
      : await dumpWithinPause(restic, dumpTags, host, pausedAt);
    outcome = dumped;
    const after = await standbyState(context.runner, profile).catch((error: Error) => error);
    if (dumped.pauseExceeded)
      verdict = failure(
        `the dump did not finish within PG_MAX_PAUSE=${profile.values.PG_MAX_PAUSE}`,
        ExitCode.ConsistencyLost,
      );
    else if (dumped.failure) verdict = failure(dumped.failure.message, dumped.failure.exitCode);
    else verdict = pointInTimeLost(at, after);
    if (marker.spool && !verdict) {
      // While replay is resumed: restic's start-up (its key, the index) overlaps the end of the pause, not the checks.
      reading = dumpIntoRestic(
        restic,
        unspoolStages(profile, onHost(paths, marker.spool), { parallelGzip: toolAvailable('pigz') }),
        { fileName: dumpFileName(profile, host), host, tags: dumpTags, cancel: stopReading.signal },
      );
      // Awaited once the standby is restored; a rejection must not go unhandled meanwhile.
      reading.catch(() => undefined);
    }
  } catch (error) {
    if (!(error instanceof ToolError) && !(error instanceof QueryError)) throw error;
    verdict =
      error instanceof DumpFailure
        ? error
        : failure(
            error.message,
            error instanceof QueryError ? ExitCode.ConsistencyLost : (error as ToolError).exitCode,
          );
  } finally {
    let resumedAt: number | undefined;
    const problems = await resumeStandby(context, profile, marker, () => (resumedAt = Date.now()));
    log.info(`replay was paused for ${(((resumedAt ?? Date.now()) - pausedAt) / 1000).toFixed(2)} s`);
    restored = problems.length === 0;
    if (problems.length > 0 && !verdict)
      verdict = failure(
        `the dump is good but the standby was not fully restored: ${problems.join('; ')}`,
        ExitCode.CommandFailed,
      );
    else if (problems.length > 0) log.error(problems.join('; '));
  }
  // The marker stays while the standby is not restored, so that pg-cleanup or the next run retries.
  if (verdict) {
    // The standby could not be restored: restic stops reading, and a snapshot it made is forgotten below.
    stopReading.abort();
    await reading?.catch(() => undefined);
    removeSpoolFile(paths, marker.spool);
    await forgetFailedRun(restic, runId);
    if (restored) removeMarker(paths, profile.name);
    throw verdict;
  }
  if (marker.spool) {
    // The standby is back; the marker now only names the spool and the run, for a kill while restic reads.
    writeMarker(paths, profile.name, { ...marker, repmgrdStopped: false, replayPaused: false });
    log.info(
      `spooled ${spoolBytes(paths, marker.spool)} bytes ` +
        `(${SPOOL_FORMATS[profile.values.PG_SPOOL_COMPRESSION].label}); replay is resumed, restic reads the ` +
        `spool`,
    );
    try {
      if (!reading) throw new Error('the spool was written but its reader never started');
      const stored = await reading;
      if (stored.failure) {
        await forgetFailedRun(restic, runId);
        throw failure(`restic could not store the spooled dump: ${stored.failure.message}`, stored.failure.exitCode);
      }
      outcome = { ...stored, warnings: [...outcome.warnings, ...stored.warnings] };
    } finally {
      removeSpoolFile(paths, marker.spool);
      removeMarker(paths, profile.name);
    }
  }
  removeMarker(paths, profile.name);
  return outcome;
}

export async function pgBackupJob(context: Context, profile: Profile): Promise<JobOutcome> {
  const { log } = context;
  const restic = await openRestic(context, profile);
  const host = snapshotHost(profile);
  const base = { host, resticVersion: restic.version.text };
  const runId = crypto.randomUUID();
  const tags = [...jobTags(profile.name, 'pg-backup'), `run:${runId}`];

  return withRepositoryLock(context, profile, 'pg-backup', async () => {
    // Before anything is paused: a repository restic cannot use (wrong password, server down)
    // fails the run here, within BACKUP_NETWORK_TIMEOUT.
    await removeStaleLocks(restic).catch((error: unknown) => {
      throw error instanceof JobError && error.exitCode === ExitCode.CommandFailed
        ? failure(error.message, ExitCode.ResticFailed)
        : error;
    });
    await recoverEarlierRun(restic);
    const before = await preflight(context, profile);
    let outcome: DumpOutcome;
    if (!before.inRecovery) {
      const policy = profile.values.PG_ON_PRIMARY;
      const message =
        `${profile.env.PGHOST ?? 'the server'}${profile.env.PGPORT ? `:${profile.env.PGPORT}` : ''} is a ` +
        `primary, not a standby (after a failover?)`;
      if (policy === 'fail')
        throw failure(
          `${message}: nothing was dumped (PG_ON_PRIMARY=fail). Point the profile at a standby.`,
          ExitCode.NotStandby,
        );
      if (policy === 'skip')
        return {
          ...base,
          result: 'warning',
          exitCode: ExitCode.Ok,
          message: `${message}: no dump was taken (PG_ON_PRIMARY=skip)`,
        };
      log.warn(`${message}: dumping from it without a pause (PG_ON_PRIMARY=dump)`);
      outcome = await dumpIntoRestic(restic, dumpStages(profile, { parallelGzip: toolAvailable('pigz') }), {
        fileName: dumpFileName(profile, host),
        host,
        tags: [...tags, 'source:primary', `pg-major:${before.serverMajor}`],
      });
      if (outcome.failure) {
        await forgetFailedRun(restic, runId);
        throw failure(`the dump from the primary failed: ${outcome.failure.message}`, outcome.failure.exitCode);
      }
    } else {
      outcome = await dumpPausedStandby(restic, tags, host, runId, await chooseSpool(context, profile));
    }
    outcome.warnings.forEach((line) => log.warn(`the dump said: ${line}`));

    const forget = await callRestic(
      restic,
      'retention (restic forget)',
      forgetArgs(host, jobTags(profile.name, 'pg-backup'), { within: profile.values.PG_BACKUP_KEEP_WITHIN }),
    );
    const summary = outcome.summary!;
    const snapshotId = fullSnapshotId(summary.snapshotId!, forget.stdout);
    return {
      ...base,
      result: 'success',
      exitCode: ExitCode.Ok,
      snapshotId,
      bytesAdded: summary.bytesAdded,
      message:
        `dump saved as snapshot ${snapshotId.slice(0, 8)} (${summary.bytesProcessed} bytes of ` +
        `${profile.values.PG_DUMP_COMPRESSION === 'none' ? 'SQL' : profile.values.PG_DUMP_COMPRESSION}, ` +
        `${summary.bytesAdded} added); retention applied`,
    };
  });
}
