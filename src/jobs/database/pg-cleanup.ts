/**
 * `run pg-cleanup <name>`: the safety net in pg-backup@.service's ExecStopPost=, which systemd runs
 * however the main process ended, even after SIGKILL. If the run left its marker, this resumes
 * replay and releases the HA manager as the marker says, and, unless systemd reports success, forgets
 * the run's snapshot and records the run as failed. Encrypted credentials are unlocked only for
 * that last step; if they cannot be, the marker stays and the next run forgets the snapshot.
 */
import type { Context } from '../../context.js';
import { ExitCode, JobError } from '../../errors.js';
import { withRepositoryLock } from '../../locks/repository-lock.js';
import type { Profile } from '../../profile/model.js';
import { failureFields, readStatus, writeStatus } from '../../reporting/status-file.js';
import type { JobOutcome } from '../job.js';
import { openRestic } from '../restic-call.js';
import { withCredentials } from '../../credentials/unlock.js';
import { processAlive } from '../../exec/processes.js';
import { howItEnded } from '../../reporting/run-record.js';
import { readMarker, removeMarker, standbyRestored, writeMarker, type PgRunMarker } from './pg-marker.js';
import { forgetRunSnapshots, removeRunFiles, resumeStandby } from './resume-standby.js';

/**
 * The status of the run that was ended from outside: failed, with what the clean-up did. A run that wrote
 * its own result (a failure that left the standby unrestored, so the marker stayed) keeps it: its reason
 * is the one to read.
 */
function recordEndedRun(context: Context, profile: Profile, marker: PgRunMarker, forgotten: number): void {
  const previous = readStatus(context.paths, profile.name, 'pg-backup');
  if (previous && Date.parse(previous.end) >= Date.parse(marker.start)) {
    context.log.info(`the run of ${marker.start} reported its own result: its status stays`);
    return;
  }
  const now = new Date().toISOString();
  const ended = {
    result: 'failure' as const,
    exitCode: ExitCode.CommandFailed,
    message:
      `the run that started ${marker.start} was ended from outside (${howItEnded(process.env)}); ` +
      `pg-cleanup restored the standby and forgot ${forgotten} snapshot(s)`,
    end: now,
  };
  // In ExecStopPost= (SERVICE_RESULT set) the invocation is the ended run's; by hand or in a later run it is not.
  const invocation = process.env.SERVICE_RESULT ? process.env.INVOCATION_ID : undefined;
  try {
    writeStatus(context.paths, {
      profile: profile.name,
      job: 'pg-backup',
      ...ended,
      ...failureFields(ended, previous, invocation),
      start: marker.start,
      durationSeconds: (Date.parse(now) - Date.parse(marker.start)) / 1000,
      lastSuccess: previous?.lastSuccess ?? null,
      lastSnapshot: previous?.lastSnapshot ?? null,
    });
  } catch (error) {
    context.log.error(`could not write the status file: ${(error as Error).message}`);
  }
}

export async function pgCleanupJob(context: Context, profile: Profile): Promise<JobOutcome> {
  const { paths, log } = context;
  const marker = readMarker(paths, profile.name);
  if (!marker)
    return { result: 'success', exitCode: ExitCode.Ok, message: 'nothing to clean up: the last run finished cleanly' };
  if (processAlive(marker.pid) && marker.pid !== process.pid) {
    throw new JobError(`the pg-backup run ${marker.pid} is still running: nothing was touched`, ExitCode.CommandFailed);
  }
  const serviceResult = process.env.SERVICE_RESULT;
  log.warn(
    `the pg-backup run of ${marker.start} (pid ${marker.pid}) did not ` +
      `finish${serviceResult ? ` (SERVICE_RESULT=${serviceResult})` : ''}: undoing what it changed`,
  );
  return withRepositoryLock(context, profile, 'pg-cleanup', async () => {
    const problems = await resumeStandby(context, profile, marker);
    // The spool holds every row: it goes whatever else happens.
    await removeRunFiles(context, profile, marker);
    // What is undone is no longer the marker's to name, should forgetting below fail.
    if (problems.length === 0)
      writeMarker(paths, profile.name, { ...standbyRestored(marker), spool: undefined, archive: undefined });
    let forgotten: string[] = [];
    if (serviceResult !== 'success') {
      // The credentials only now: a profile whose secrets cannot be decrypted still gets its standby back.
      forgotten = await withCredentials(context, profile, async (unlocked) =>
        forgetRunSnapshots(await openRestic(context, unlocked), marker.runId),
      );
      recordEndedRun(context, profile, marker, forgotten.length);
    }
    if (problems.length > 0)
      throw new JobError(`the standby is not fully restored: ${problems.join('; ')}`, ExitCode.CommandFailed);
    removeMarker(paths, profile.name);
    return {
      result: 'success',
      exitCode: ExitCode.Ok,
      message:
        'standby restored' +
        (forgotten.length > 0 ? `, ${forgotten.length} snapshot(s) of the failed run forgotten` : ''),
    };
  });
}
