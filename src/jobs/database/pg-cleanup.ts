/**
 * `run pg-cleanup <name>`: the safety net in pg-backup@.service's ExecStopPost=, which systemd runs
 * however the main process ended, even after SIGKILL. If the run left its marker, this resumes
 * replay and restarts repmgrd as the marker says, and, unless systemd reports success, forgets
 * the run's snapshot and records the run as failed.
 */
import type { Context } from '../../context.js';
import { ExitCode, JobError } from '../../errors.js';
import { resticEnvironment } from '../../exec/restic.js';
import type { Profile } from '../../profile/load.js';
import type { JobOutcome } from '../job.js';
import { processAlive, readMarker, removeMarker } from './pg-marker.js';
import { forgetRunSnapshots, restoreStandby } from './restore-standby.js';
import { withRepositoryLock } from '../../locks/repository-lock.js';
import { readStatus, writeStatus } from '../../reporting/status-file.js';

export async function pgCleanupJob(context: Context, profile: Profile): Promise<JobOutcome> {
  const { paths, log } = context;
  const marker = readMarker(paths, profile.name);
  if (!marker) return { result: 'success', exitCode: ExitCode.Ok, message: 'nothing to clean up: the last run finished cleanly' };
  if (processAlive(marker.pid) && marker.pid !== process.pid) {
    throw new JobError(`the pg-backup run ${marker.pid} is still running: nothing was touched`, ExitCode.CommandFailed);
  }
  const serviceResult = process.env.SERVICE_RESULT;
  log.warn(`the pg-backup run of ${marker.start} (pid ${marker.pid}) did not finish${serviceResult ? ` (SERVICE_RESULT=${serviceResult})` : ''}: undoing what it changed`);
  return withRepositoryLock(context, profile, 'pg-cleanup', async () => {
    const problems = await restoreStandby(context, profile, marker);
    const succeeded = serviceResult === 'success';
    let forgotten: string[] = [];
    if (!succeeded) {
      forgotten = await forgetRunSnapshots(context, profile, resticEnvironment(profile, paths), marker.runId);
      const previous = readStatus(paths, profile.name, 'pg-backup');
      const now = new Date().toISOString();
      await writeStatus(paths, {
        profile: profile.name,
        job: 'pg-backup',
        result: 'failure',
        exitCode: ExitCode.CommandFailed,
        message: `the run that started ${marker.start} was ended from outside (${serviceResult ?? 'no SERVICE_RESULT'}); pg-cleanup restored the standby and forgot ${forgotten.length} snapshot(s)`,
        start: marker.start,
        end: now,
        durationSeconds: (Date.parse(now) - Date.parse(marker.start)) / 1000,
        lastSuccess: previous?.lastSuccess ?? null,
        lastSnapshot: previous?.lastSnapshot ?? null,
      }).catch((error: Error) => log.error(`could not write the status file: ${error.message}`));
    }
    if (problems.length > 0) throw new JobError(`the standby is not fully restored: ${problems.join('; ')}`, ExitCode.CommandFailed);
    removeMarker(paths, profile.name);
    return { result: 'success', exitCode: ExitCode.Ok, message: `standby restored${forgotten.length > 0 ? `, ${forgotten.length} snapshot(s) of the failed run forgotten` : ''}` };
  });
}
