/**
 * `run <job> <name>`: what every unit starts. Loads the profile (from the environment systemd gave
 * the unit, or from the file when run by hand), runs the job, and after every run, success or not,
 * writes the status file and metrics; the exit code is the job's verdict.
 */
import type { Context } from '../context.js';
import { ExitCode, JobError, ToolError } from '../errors.js';
import { backupJob } from '../jobs/backup.js';
import type { Job, JobOutcome } from '../jobs/job.js';
import { maintenanceJob } from '../jobs/maintenance.js';
import { ping, pingUrl } from '../reporting/notify.js';
import { pgBackupJob } from '../jobs/database/pg-backup.js';
import { pgCleanupJob } from '../jobs/database/pg-cleanup.js';
import { pgVerifyJob } from '../jobs/database/pg-verify.js';
import { readStatus, writeMetrics, writeStatus, type JobStatus } from '../reporting/status-file.js';
import { loadProfile, profileFromEnvironment, startedBySystemdWithProfile, type Profile } from '../profile/load.js';

export const RUNNABLE_JOBS = { backup: backupJob, maintenance: maintenanceJob, 'pg-backup': pgBackupJob, 'pg-cleanup': pgCleanupJob, 'pg-verify': pgVerifyJob } satisfies Record<string, Job>;
export type RunnableJob = keyof typeof RUNNABLE_JOBS;

/** Stop signals reach restic as SIGINT, on which it removes its lock and exits; then we report. */
function forwardStopSignals(context: Context): () => void {
  const forward = (signal: NodeJS.Signals) => {
    context.log.warn(`received ${signal}: stopping restic`);
    context.runner.signalAll('SIGINT');
  };
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  signals.forEach((signal) => process.on(signal, forward));
  return () => signals.forEach((signal) => process.off(signal, forward));
}

export async function runCommand(context: Context, job: RunnableJob, name: string): Promise<void> {
  const { paths, log } = context;
  const start = new Date();
  let profile: Profile | undefined;
  let outcome: JobOutcome;
  let internal: unknown;
  const stopForwarding = forwardStopSignals(context);
  try {
    profile = startedBySystemdWithProfile(process.env)
      ? await profileFromEnvironment(name, process.env, paths)
      : await loadProfile(name, paths, context.runner, { checkSchedules: false });
    const url = pingUrl(profile, job);
    if (url) await ping(context, url, '/start');
    outcome = await RUNNABLE_JOBS[job](context, profile);
  } catch (error) {
    if (!(error instanceof ToolError)) internal = error;
    outcome = { result: 'failure', exitCode: error instanceof ToolError ? error.exitCode : ExitCode.Internal, message: error instanceof Error ? error.message : String(error) };
  } finally {
    stopForwarding();
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
    lastSnapshot: outcome.snapshotId && outcome.result !== 'failure' ? { id: outcome.snapshotId, time: end.toISOString() } : (previous?.lastSnapshot ?? null),
  };
  // A status that cannot be written (disk full) must not hide the run's own result.
  await writeStatus(paths, status).catch((error: Error) => log.error(`could not write the status file: ${error.message}`));
  const metricsDir = profile?.values.BACKUP_METRICS_DIR;
  if (metricsDir) await writeMetrics(paths, metricsDir, status).catch((error: Error) => log.error(`could not write the metrics: ${error.message}`));

  const url = profile && pingUrl(profile, job);
  if (url) await ping(context, url, outcome.result === 'success' ? '' : '/fail', outcome.message);

  if (internal) throw internal;
  if (context.json) context.print(JSON.stringify(status));
  if (outcome.result === 'success') {
    log.info(`${job} of ${name}: ${outcome.message}`);
    return;
  }
  throw new JobError(`${job} of ${name} ${outcome.result === 'warning' ? 'finished with a warning' : 'failed'}: ${outcome.message}`, outcome.exitCode);
}
