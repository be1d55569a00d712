/**
 * `run <job> <name>`: what every unit starts. Loads the profile (from the environment systemd gave
 * the unit, or from the file when run by hand), runs the job, and after every run, success or not,
 * writes the status file and metrics; the exit code is the job's verdict.
 */
import type { Context } from '../context.js';
import type { JOB_CHOICES } from './catalog.js';
import { ExitCode, JobError, ToolError } from '../errors.js';
import { backupJob } from '../jobs/backup.js';
import { checkInstalledUnits } from '../jobs/installed-units.js';
import type { Job, JobOutcome } from '../jobs/job.js';
import { maintenanceJob } from '../jobs/maintenance.js';
import { ping, pingUrl } from '../reporting/notify.js';
import { pgBackupJob } from '../jobs/database/pg-backup.js';
import { pgCleanupJob } from '../jobs/database/pg-cleanup.js';
import { pgVerifyJob } from '../jobs/database/pg-verify.js';
import { readStatus, writeMetrics, writeStandbyMetrics, writeStatus, type JobStatus } from '../reporting/status-file.js';
import { metricsScheduleInterval, standbyLeftPaused } from '../reporting/metrics-inputs.js';
import { loadProfile, profileFromEnvironment, startedBySystemdWithProfile, type Profile } from '../profile/load.js';
import { assertProfileName } from '../profile/name.js';
import { withCredentials } from '../credentials/unlock.js';
import { askResticVersion } from '../jobs/restic-call.js';

export type RunnableJob = (typeof JOB_CHOICES)[number];
export const RUNNABLE_JOBS: Record<RunnableJob, Job> = { backup: backupJob, maintenance: maintenanceJob, 'pg-backup': pgBackupJob, 'pg-cleanup': pgCleanupJob, 'pg-verify': pgVerifyJob };

/**
 * Stop signals reach restic as SIGINT, on which it removes its lock and exits; the run is then
 * reported as interrupted, whatever code restic exits with (1, 130, or killed).
 */
function forwardStopSignals(context: Context): { received: () => NodeJS.Signals | undefined; stop: () => void } {
  let received: NodeJS.Signals | undefined;
  const forward = (signal: NodeJS.Signals) => {
    received ??= signal;
    context.log.warn(`received ${signal}: stopping restic`);
    context.runner.signalAll('SIGINT');
  };
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  signals.forEach((signal) => process.on(signal, forward));
  return { received: () => received, stop: () => signals.forEach((signal) => process.off(signal, forward)) };
}

export async function runCommand(context: Context, job: RunnableJob, name: string): Promise<void> {
  const { paths, log } = context;
  // Before anything: a name that is not a profile name never becomes a file name.
  assertProfileName(name);
  const start = new Date();
  let profile: Profile | undefined;
  let outcome: JobOutcome;
  let internal: unknown;
  // Asked while the job runs (one systemd-analyze), for the metrics only.
  let scheduleInterval: Promise<number | undefined> = Promise.resolve(undefined);
  const signals = forwardStopSignals(context);
  if (job !== 'pg-cleanup') askResticVersion(context);
  try {
    const bySystemd = startedBySystemdWithProfile(process.env);
    profile = bySystemd ? await profileFromEnvironment(name, process.env, paths) : await loadProfile(name, paths, context.runner, { checkSchedules: false });
    if (bySystemd && job !== 'pg-cleanup') checkInstalledUnits(context, profile, job);
    scheduleInterval = metricsScheduleInterval(context, profile, job);
    const url = pingUrl(profile, job);
    if (url) await ping(context, url, '/start');
    // pg-cleanup restores the standby first, which needs no secret, and unlocks the credentials itself after.
    outcome = job === 'pg-cleanup' ? await pgCleanupJob(context, profile) : await withCredentials(context, profile, (unlocked) => RUNNABLE_JOBS[job](context, unlocked));
  } catch (error) {
    if (!(error instanceof ToolError)) internal = error;
    outcome = { result: 'failure', exitCode: error instanceof ToolError ? error.exitCode : ExitCode.Internal, message: error instanceof Error ? error.message : String(error) };
  } finally {
    signals.stop();
  }
  const signal = signals.received();
  if (signal && outcome.result !== 'success') {
    outcome = { ...outcome, result: 'interrupted', exitCode: ExitCode.Interrupted, message: `stopped by ${signal} (systemctl stop, a timeout or Ctrl-C): ${outcome.message}` };
  }

  const end = new Date();
  const previous = readStatus(paths, name, job);
  const status: JobStatus = {
    profile: name,
    job,
    ...outcome,
    start: start.toISOString(),
    end: end.toISOString(),
    durationSeconds: (end.getTime() - start.getTime()) / 1000,
    lastSuccess: outcome.result === 'success' ? end.toISOString() : (previous?.lastSuccess ?? null),
    lastSnapshot: outcome.snapshotId && (outcome.result === 'success' || outcome.result === 'warning') ? { id: outcome.snapshotId, time: end.toISOString() } : (previous?.lastSnapshot ?? null),
  };
  // A status that cannot be written (disk full) must not hide the run's own result.
  try {
    writeStatus(paths, status);
  } catch (error) {
    log.error(`could not write the status file: ${(error as Error).message}`);
  }
  const metricsDir = profile?.values.BACKUP_METRICS_DIR;
  try {
    if (metricsDir) {
      writeMetrics(paths, metricsDir, status, { scheduleIntervalSeconds: await scheduleInterval });
      if (job === 'pg-backup' || job === 'pg-cleanup') writeStandbyMetrics(paths, metricsDir, name, standbyLeftPaused(paths, name));
    }
  } catch (error) {
    log.error(`could not write the metrics: ${(error as Error).message}`);
  }

  const url = profile && pingUrl(profile, job);
  if (url) await ping(context, url, outcome.result === 'success' ? '' : '/fail', outcome.message);

  if (internal) throw internal;
  if (context.json) context.print(JSON.stringify(status));
  if (outcome.result === 'success') {
    log.info(`${job} of ${name}: ${outcome.message}`);
    return;
  }
  if (outcome.exitCode === ExitCode.Ok) {
    // A warning the job does not fail for (PG_ON_PRIMARY=skip): status reports it.
    log.warn(`${job} of ${name}: ${outcome.message}`);
    return;
  }
  const verdict = { warning: 'finished with a warning', interrupted: 'was interrupted', failure: 'failed' }[outcome.result];
  throw new JobError(`${job} of ${name} ${verdict}: ${outcome.message}`, outcome.exitCode);
}
