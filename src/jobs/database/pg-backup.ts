/**
 * The pg-backup@ job: a point-in-time-consistent dump of a paused streaming standby into restic,
 * failing closed (paused-dump.ts): per-database archives of one replay point (archive-dump.ts,
 * PG_DUMP_FORMAT=directory) or one pg_dumpall SQL file (sql-dump.ts). Then the retention of the
 * profile's database dumps on this host.
 */
import { refuseAfterStop } from '../stop-request.js';
import crypto from 'node:crypto';
import type { Context } from '../../context.js';
import { ExitCode, JobError } from '../../errors.js';
import { withRepositoryLock } from '../../locks/repository-lock.js';
import type { Profile } from '../../profile/model.js';
import { formatBytes } from '../../reporting/format.js';
import type { StandbyState } from '../../tools/postgres.js';
import { forgetArgs, jobTags, snapshotHost } from '../../tools/restic.js';
import type { JobOutcome } from '../job.js';
import { callRestic, openRestic, removeStaleLocks } from '../restic-call.js';
import { fullSnapshotId } from '../snapshot-ids.js';
import { archiveWriter } from './archive-dump.js';
import type { DumpOutcome } from './dump-into-restic.js';
import type { DumpRun, DumpWriter } from './dump-writer.js';
import { dumpPausedStandby, dumpPrimary } from './paused-dump.js';
import { recoverEarlierRun } from './resume-standby.js';
import { spoolWriter, streamWriter } from './sql-dump.js';
import { chooseSpool, spoolProblem } from './spool.js';
import { failure, preflight } from './standby-checks.js';

/** The writer of the profile's format: checked before anything is paused (the spool's room, exit 26). */
async function chooseWriter(run: DumpRun, source: 'standby' | 'primary'): Promise<DumpWriter> {
  const { context, profile } = run.restic;
  if (profile.values.PG_DUMP_FORMAT === 'directory') {
    const problem = await spoolProblem(context, profile);
    if (problem) {
      throw failure(`the spool folder cannot take the dump: ${problem}. Nothing was paused`, ExitCode.SpoolUnavailable);
    }
    return await archiveWriter(run, source);
  }
  return source === 'standby' && (await chooseSpool(context, profile)) ? spoolWriter(run) : streamWriter(run);
}

/** The node is a primary (after a failover?): as PG_ON_PRIMARY says, fail, skip, or dump without a pause. */
async function onPrimary(run: DumpRun, state: StandbyState): Promise<DumpOutcome | { skipped: string }> {
  const { context, profile } = run.restic;
  const server = `${profile.env.PGHOST ?? 'the server'}${profile.env.PGPORT ? `:${profile.env.PGPORT}` : ''}`;
  const message = `${server} is a primary, not a standby (after a failover?)`;
  const policy = profile.values.PG_ON_PRIMARY;
  if (policy === 'fail') {
    throw failure(
      `${message}: nothing was dumped (PG_ON_PRIMARY=fail). Point the profile at a standby.`,
      ExitCode.NotStandby,
    );
  }
  if (policy === 'skip') return { skipped: `${message}: no dump was taken (PG_ON_PRIMARY=skip)` };
  context.log.warn(`${message}: dumping from it without a pause (PG_ON_PRIMARY=dump)`);
  return dumpPrimary(run, await chooseWriter(run, 'primary'), state);
}

function describe(profile: Profile, outcome: DumpOutcome, snapshotId: string): string {
  const summary = outcome.summary!;
  const what =
    profile.values.PG_DUMP_FORMAT === 'directory'
      ? 'of per-database archives'
      : `of ${profile.values.PG_DUMP_COMPRESSION === 'none' ? 'SQL' : profile.values.PG_DUMP_COMPRESSION}`;
  return (
    `dump saved as snapshot ${snapshotId.slice(0, 8)} (${formatBytes(summary.bytesProcessed)} ${what}, ` +
    `${formatBytes(summary.bytesAdded)} added); retention applied`
  );
}

export async function pgBackupJob(context: Context, profile: Profile): Promise<JobOutcome> {
  const { log } = context;
  const restic = await openRestic(context, profile);
  const host = snapshotHost(profile);
  const base = { host, resticVersion: restic.version.text };
  const runId = crypto.randomUUID();
  const run: DumpRun = { restic, host, runId, tags: [...jobTags(profile.name, 'pg-backup'), `run:${runId}`] };

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
    const dumped = before.inRecovery
      ? await dumpPausedStandby(run, await chooseWriter(run, 'standby'))
      : await onPrimary(run, before);
    if ('skipped' in dumped) return { ...base, result: 'warning', exitCode: ExitCode.Ok, message: dumped.skipped };
    dumped.warnings.forEach((line) => log.warn(`the dump said: ${line}`));

    refuseAfterStop(`the dump was saved as snapshot ${dumped.summary!.snapshotId}`, 'the retention');
    const retention = { within: profile.values.PG_BACKUP_KEEP_WITHIN };
    const forgetting = forgetArgs(host, jobTags(profile.name, 'pg-backup'), retention);
    const forget = await callRestic(restic, 'retention (restic forget)', forgetting);
    const snapshotId = fullSnapshotId(dumped.summary!.snapshotId!, forget.stdout);
    return {
      ...base,
      result: 'success',
      exitCode: ExitCode.Ok,
      snapshotId,
      bytesAdded: dumped.summary!.bytesAdded,
      message: describe(profile, dumped, snapshotId),
    };
  });
}
