/**
 * The pg-backup@ job: a point-in-time-consistent pg_dumpall from a paused streaming standby,
 * streamed into restic backup --stdin, failing closed. The procedure follows the operating guide's
 * intent with its defects fixed: stop the local repmgrd, pause WAL replay (stopping repmgrd alone
 * does not), dump, check nothing moved, resume, start repmgrd; a snapshot counts only if every
 * process exited 0 and every check held, otherwise it is forgotten.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context.js';
import { ExitCode, JobError, ToolError, type ExitCode as Code } from '../../errors.js';
import { COMPRESSORS, QueryError, dumpStages, pauseReplay, replayPauseState, standbyState, type StandbyState } from '../../exec/postgres.js';
import { stopRepmgrd } from '../../exec/repmgrd.js';
import { toolAvailable } from '../../exec/tools.js';
import { classifyResticFailure, forgetArgs, jobTags, parseBackupLine, resticEnvironment, resticVersion, snapshotHost, type BackupSummary } from '../../exec/restic.js';
import { baseEnvironment, type RunResult } from '../../exec/runner.js';
import type { Profile } from '../../profile/load.js';
import { timespanSeconds } from '../../profile/timespan.js';
import type { JobOutcome } from '../job.js';
import { processAlive, readMarker, removeMarker, writeMarker, type PgRunMarker } from './pg-marker.js';
import { forgetRunSnapshots, restoreStandby } from './restore-standby.js';
import { withRepositoryLock } from '../../locks/repository-lock.js';
import { callRestic, removeStaleLocks } from '../restic-call.js';

const PAUSE_WAIT_MS = 30_000;

class Failure extends JobError {}
const fail = (message: string, code: Code) => new Failure(message, code);

function stderrTail(result: RunResult): string {
  return result.stderr.trim().split('\n').slice(-5).join('\n');
}

/** The program environment restic needs in a pipeline, where nothing is inherited. */
function resticStageEnvironment(profile: Profile, context: Context): Record<string, string> {
  const base = baseEnvironment();
  for (const key of ['HOME', 'TMPDIR']) if (process.env[key]) base[key] = process.env[key]!;
  return { ...base, ...resticEnvironment(profile, context.paths) };
}

/** The checks before anything is changed; throws a Failure saying why the standby cannot be used. */
async function preflight(context: Context, profile: Profile): Promise<StandbyState> {
  let state: StandbyState;
  try {
    state = await standbyState(context.runner, profile);
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    throw fail(`cannot query the standby (PGHOST=${profile.env.PGHOST ?? ''} PGPORT=${profile.env.PGPORT ?? ''}): ${error.message}`, ExitCode.StandbyNotReady);
  }
  if (!state.inRecovery) return state;
  if (state.pauseState !== 'not paused') {
    throw fail(`WAL replay is already "${state.pauseState}", by someone else or by a run that is not this job's: it is left as it is. Resume it with SELECT pg_wal_replay_resume() once you know why it was paused.`, ExitCode.ReplayAlreadyPaused);
  }
  if (state.receiverStatus !== 'streaming') {
    throw fail(`the standby is not streaming from its primary (WAL receiver: ${state.receiverStatus || 'none'}): its data would be stale`, ExitCode.StandbyNotReady);
  }
  if (state.lagBytes > profile.values.PG_MAX_REPLAY_LAG) {
    throw fail(`the standby has ${state.lagBytes} bytes of WAL received but not replayed, more than PG_MAX_REPLAY_LAG`, ExitCode.StandbyNotReady);
  }
  const walFolder = path.join(state.dataDirectory, 'pg_wal');
  if (state.dataDirectory && fs.existsSync(walFolder)) {
    const stats = fs.statfsSync(walFolder);
    const free = stats.bavail * stats.bsize;
    if (free < profile.values.PG_MIN_FREE_WAL_SPACE) {
      throw fail(`only ${free} bytes are free for ${walFolder}, less than PG_MIN_FREE_WAL_SPACE: WAL keeps arriving while replay is paused`, ExitCode.StandbyNotReady);
    }
  }
  return state;
}

async function waitUntilPaused(context: Context, profile: Profile): Promise<void> {
  const deadline = Date.now() + PAUSE_WAIT_MS;
  for (;;) {
    const state = await replayPauseState(context.runner, profile);
    if (state === 'paused') return;
    if (state === 'not in recovery') throw fail('the node left recovery (was promoted) while replay was being paused', ExitCode.ConsistencyLost);
    if (Date.now() > deadline) throw fail(`WAL replay did not reach "paused" within ${PAUSE_WAIT_MS / 1000} s (it is "${state}")`, ExitCode.ConsistencyLost);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface StreamResult {
  results: RunResult[];
  summary?: BackupSummary;
  pauseExceeded: boolean;
}

/** pg_dumpall [| compressor] | restic backup --stdin, stopped if the pause lasts past PG_MAX_PAUSE. */
async function streamDump(context: Context, profile: Profile, host: string, tags: string[], pausedAt: number): Promise<StreamResult> {
  const fileName = `postgres-${host}${COMPRESSORS[profile.values.PG_DUMP_COMPRESSION].suffix}`;
  const restic = ['backup', '--json', '--stdin', '--stdin-filename', fileName, '--host', host, ...tags.flatMap((tag) => ['--tag', tag])];
  let summary: BackupSummary | undefined;
  let pauseExceeded = false;
  const remaining = timespanSeconds(profile.values.PG_MAX_PAUSE)! * 1000 - (Date.now() - pausedAt);
  const watchdog = setTimeout(() => {
    pauseExceeded = true;
    context.log.error(`replay has been paused for PG_MAX_PAUSE=${profile.values.PG_MAX_PAUSE}: stopping the dump`);
    context.runner.signalAll('SIGTERM');
  }, Math.max(remaining, 0));
  try {
    const stages = dumpStages(profile, { parallelGzip: toolAvailable('pigz') });
    const results = await context.runner.pipeline([...stages, { tool: 'restic', args: restic, env: resticStageEnvironment(profile, context) }], (line) => {
      summary = parseBackupLine(line) ?? summary;
    });
    return { results, summary, pauseExceeded };
  } finally {
    clearTimeout(watchdog);
  }
}

/** Why the dump does not count, or undefined when every process and every check says it does. */
function verdict(profile: Profile, stream: StreamResult, before: StandbyState, after: StandbyState | Error): Failure | undefined {
  if (stream.pauseExceeded) return fail(`the dump did not finish within PG_MAX_PAUSE=${profile.values.PG_MAX_PAUSE}`, ExitCode.ConsistencyLost);
  const resticResult = stream.results[stream.results.length - 1]!;
  // restic first: when restic fails the dump loses its reader and fails too (broken pipe), while a
  // failed dump leaves restic to store the truncated stream and exit 0.
  if (resticResult.exitCode !== 0) {
    const { meaning } = classifyResticFailure(resticResult.exitCode, resticResult.stderr, profile.name);
    return fail(`restic backup --stdin failed: ${meaning}\n${stderrTail(resticResult)}`, ExitCode.ResticFailed);
  }
  for (const result of stream.results.slice(0, -1)) {
    if (result.exitCode !== 0) return fail(`${result.command} failed (exit ${result.exitCode}${result.signal ? `, ${result.signal}` : ''}):\n${stderrTail(result)}`, ExitCode.DumpFailed);
  }
  if (!stream.summary?.snapshotId) return fail('restic backup --stdin exited 0 without a summary: the snapshot cannot be vouched for', ExitCode.ResticFailed);
  if (after instanceof Error) return fail(`the standby could not be checked after the dump: ${after.message}`, ExitCode.ConsistencyLost);
  const moved: string[] = [];
  if (!after.inRecovery) moved.push('the node was promoted during the dump');
  else if (after.pauseState !== 'paused') moved.push(`replay is "${after.pauseState}" (was the standby restarted?)`);
  if (after.replayLsn !== before.replayLsn) moved.push(`the replay position moved from ${before.replayLsn} to ${after.replayLsn}`);
  if (after.inRecovery && after.timeline !== before.timeline) moved.push(`the timeline changed from ${before.timeline} to ${after.timeline}`);
  if (moved.length > 0) return fail(`the dump is not of one point in time: ${moved.join('; ')}`, ExitCode.ConsistencyLost);
  return undefined;
}

/**
 * Forget the failed run's snapshot; if restic cannot (the same fault that failed the run, e.g. a
 * wrong password), say so without hiding the run's own failure: no snapshot was made then either.
 */
async function forgetFailedRun(context: Context, profile: Profile, env: Record<string, string>, runId: string): Promise<void> {
  try {
    await forgetRunSnapshots(context, profile, env, runId);
  } catch (error) {
    context.log.error(`could not look for a snapshot of the failed run (tag run:${runId}) to forget: ${(error as Error).message}`);
  }
}

/** A marker left by a run that is gone (killed, crashed) proves the pause was ours: undo it first. */
async function recoverEarlierRun(context: Context, profile: Profile, env: Record<string, string>): Promise<void> {
  const earlier = readMarker(context.paths, profile.name);
  if (!earlier || processAlive(earlier.pid)) return;
  context.log.warn(`an earlier run (pid ${earlier.pid}, ${earlier.start}) did not finish: undoing what it changed`);
  const problems = await restoreStandby(context, profile, earlier);
  if (problems.length > 0) throw fail(`could not undo an earlier run's changes: ${problems.join('; ')}`, ExitCode.CommandFailed);
  await forgetRunSnapshots(context, profile, env, earlier.runId);
  removeMarker(context.paths, profile.name);
}

async function dumpWithoutPause(context: Context, profile: Profile, host: string, tags: string[], env: Record<string, string>, runId: string): Promise<StreamResult> {
  const stream = await streamDump(context, profile, host, [...tags, 'source:primary'], Date.now());
  const failure = stream.results.find((result) => result.exitCode !== 0);
  if (failure || !stream.summary?.snapshotId) {
    await forgetFailedRun(context, profile, env, runId);
    throw fail(`the dump from the primary failed: ${failure ? `${failure.command}: ${stderrTail(failure)}` : 'no restic summary'}`, ExitCode.DumpFailed);
  }
  return stream;
}

export async function pgBackupJob(context: Context, profile: Profile): Promise<JobOutcome> {
  const { paths, log } = context;
  const host = snapshotHost(profile);
  const env = resticEnvironment(profile, paths);
  const version = await resticVersion(context.runner);
  const base = { host, resticVersion: version.text };
  const runId = crypto.randomUUID();
  const tags = [...jobTags(profile.name, 'pg-backup'), `run:${runId}`];

  return withRepositoryLock(context, profile, 'pg-backup', async () => {
    // Before anything is paused: a repository restic cannot use (wrong password…) fails the run here.
    await removeStaleLocks(context, profile.name, env).catch((error: unknown) => {
      throw error instanceof JobError ? fail(error.message, ExitCode.ResticFailed) : error;
    });
    await recoverEarlierRun(context, profile, env);
    const before = await preflight(context, profile);
    let stream: StreamResult;
    if (!before.inRecovery) {
      const policy = profile.values.PG_ON_PRIMARY;
      const message = `${profile.env.PGHOST ?? 'the server'}${profile.env.PGPORT ? `:${profile.env.PGPORT}` : ''} is a primary, not a standby (after a failover?)`;
      if (policy === 'fail') throw fail(`${message}: nothing was dumped (PG_ON_PRIMARY=fail). Point the profile at a standby.`, ExitCode.NotStandby);
      if (policy === 'skip') return { ...base, result: 'success', exitCode: ExitCode.Ok, message: `${message}: skipped (PG_ON_PRIMARY=skip)` };
      log.warn(`${message}: dumping from it without a pause (PG_ON_PRIMARY=dump)`);
      stream = await dumpWithoutPause(context, profile, host, tags, env, runId);
    } else {
      const marker: PgRunMarker = { runId, pid: process.pid, start: new Date().toISOString(), repmgrdStopped: false, replayPaused: false };
      let failure: Failure | undefined;
      let restored = false;
      let pausedAt = Date.now();
      try {
        await writeMarker(paths, profile.name, marker);
        marker.repmgrdStopped = await stopRepmgrd(context, profile);
        await writeMarker(paths, profile.name, { ...marker, replayPaused: true });
        marker.replayPaused = true;
        await pauseReplay(context.runner, profile);
        await waitUntilPaused(context, profile);
        pausedAt = Date.now();
        const at = await standbyState(context.runner, profile);
        const pointTags = [`lsn:${at.replayLsn}`, `timeline:${at.timeline}`];
        if (at.replayTimestamp) pointTags.push(`replayed-until:${new Date(at.replayTimestamp).toISOString()}`);
        stream = await streamDump(context, profile, host, [...tags, ...pointTags], pausedAt);
        const after = await standbyState(context.runner, profile).catch((error: Error) => error);
        failure = verdict(profile, stream, at, after);
      } catch (error) {
        if (!(error instanceof ToolError) && !(error instanceof QueryError)) throw error;
        failure = error instanceof Failure ? error : fail(error.message, error instanceof QueryError ? ExitCode.ConsistencyLost : (error as ToolError).exitCode);
      } finally {
        log.info(`replay was paused for ${((Date.now() - pausedAt) / 1000).toFixed(1)} s`);
        const problems = await restoreStandby(context, profile, marker);
        restored = problems.length === 0;
        if (problems.length > 0 && !failure) failure = fail(`the dump is good but the standby was not fully restored: ${problems.join('; ')}`, ExitCode.CommandFailed);
        else if (problems.length > 0) log.error(problems.join('; '));
      }
      // The marker stays while the standby is not restored, so that pg-cleanup or the next run retries.
      if (failure) {
        await forgetFailedRun(context, profile, env, runId);
        if (restored) removeMarker(paths, profile.name);
        throw failure;
      }
      removeMarker(paths, profile.name);
    }

    await callRestic(context, profile.name, 'retention (restic forget)', forgetArgs(host, jobTags(profile.name, 'pg-backup'), { within: profile.values.PG_BACKUP_KEEP_WITHIN }), { env });
    const summary = stream!.summary!;
    return {
      ...base,
      result: 'success',
      exitCode: ExitCode.Ok,
      snapshotId: summary.snapshotId,
      bytesAdded: summary.bytesAdded,
      message: `dump saved as snapshot ${summary.snapshotId} (${summary.bytesProcessed} bytes of ${profile.values.PG_DUMP_COMPRESSION === 'none' ? 'SQL' : profile.values.PG_DUMP_COMPRESSION}, ${summary.bytesAdded} added); retention applied`,
    };
  });
}
