/**
 * `run <job> <name>`: what every unit starts. Loads the profile (from the environment systemd gave
 * the unit, or from the file when run by hand), runs the job, and after every run, success or not,
 * writes the status file and metrics (run-report.ts); the exit code is the job's verdict.
 */
import { recordStopSignal, stopSignal } from '../jobs/stop-request.js';
import type { Context } from '../context.js';
import { removeCredentialLeftovers, withCredentials } from '../credentials/unlock.js';
import { ExitCode, JobError, ToolError } from '../errors.js';
import { backupJob } from '../jobs/backup.js';
import { pgBackupJob } from '../jobs/database/pg-backup.js';
import { pgCleanupJob } from '../jobs/database/pg-cleanup.js';
import { pgVerifyJob } from '../jobs/database/pg-verify.js';
import type { Job, JobOutcome } from '../jobs/job.js';
import { maintenanceJob } from '../jobs/maintenance.js';
import { askResticVersion } from '../jobs/restic-call.js';
import { JOBS, isUnitJob, jobPingUrl, type JobName, type JobSpec } from '../profile/jobs.js';
import { loadJobProfile, startedBySystemdWithProfile, type Profile } from '../profile/load.js';
import { assertProfileName } from '../profile/name.js';
import { ping } from '../reporting/notifications.js';
import { removeRunRecord, writeRunRecord } from '../reporting/run-record.js';
import { metricsScheduleInterval, reportRun } from './run-report.js';
import { checkInstalledUnits } from './run-checks.js';
import { checkSchedules } from '../tools/schedule-checks.js';

/** The job of each row of the job table: the compiler names a row without one. */
export const RUNNABLE_JOBS = {
  backup: backupJob,
  maintenance: maintenanceJob,
  'pg-backup': pgBackupJob,
  'pg-cleanup': pgCleanupJob,
  'pg-verify': pgVerifyJob,
} satisfies Record<JobName, Job>;

/**
 * Stop signals reach restic as SIGINT, on which it removes its lock and exits; the run is then
 * reported as interrupted, whatever code restic exits with (1, 130, or killed).
 */
function forwardStopSignals(context: Context): { stop: () => void } {
  const forward = (signal: NodeJS.Signals) => {
    recordStopSignal(signal);
    context.log.warn(`received ${signal}: stopping restic`);
    context.runner.signalAll('SIGINT');
  };
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  signals.forEach((signal) => process.on(signal, forward));
  return { stop: () => signals.forEach((signal) => process.off(signal, forward)) };
}

function warnOfSchedules(context: Context, profile: Profile): Promise<void> {
  return checkSchedules([profile], context.runner).then(
    (issues) => issues.forEach((issue) => context.log.warn(`${issue.key}: ${issue.message}; install would refuse it`)),
    () => undefined,
  );
}

/** The run record (reporting/run-record.ts): without it a killed run would leave an earlier result showing. */
function recordRun(context: Context, name: string, job: JobName, start: Date): boolean {
  try {
    writeRunRecord(context.paths, name, job, start);
    return true;
  } catch (error) {
    context.log.warn(`the run record could not be written (${(error as Error).message}): a kill would go unseen`);
    return false;
  }
}

function removeRunRecordQuietly(context: Context, name: string, job: JobName): void {
  try {
    removeRunRecord(context.paths, name, job);
  } catch (error) {
    context.log.warn(`the run record could not be removed: ${(error as Error).message}`);
  }
}

export async function runCommand(context: Context, job: JobName, name: string): Promise<void> {
  const { paths, log } = context;
  // Before anything: a name that is not a profile name never becomes a file name.
  assertProfileName(name);
  const spec: JobSpec = JOBS[job];
  const start = new Date();
  let profile: Profile | undefined;
  let outcome: JobOutcome;
  let internal: unknown;
  let recorded = false;
  // Asked while the job runs (one systemd-analyze), for the metrics only.
  let scheduleInterval: Promise<number | undefined> = Promise.resolve(undefined);
  let scheduleWarning: Promise<void> = Promise.resolve();
  const signals = forwardStopSignals(context);
  if (paths.root === '/') removeCredentialLeftovers();
  if (!spec.unlocksCredentialsItself) askResticVersion(context);
  try {
    const bySystemd = startedBySystemdWithProfile(process.env);
    profile = await loadJobProfile(name, process.env, paths);
    recorded = isUnitJob(job) && recordRun(context, name, job, start);
    // A job that runs inside another job's unit has no units of its own to compare.
    if (bySystemd && isUnitJob(job)) checkInstalledUnits(context, profile, job);
    // By hand, a schedule install would refuse does not stop the run, but is named while it runs.
    if (!bySystemd) scheduleWarning = warnOfSchedules(context, profile);
    scheduleInterval = metricsScheduleInterval(context, profile, job);
    const url = jobPingUrl(profile, job);
    if (url) await ping(context, url, '/start');
    outcome = spec.unlocksCredentialsItself
      ? await RUNNABLE_JOBS[job](context, profile)
      : await withCredentials(context, profile, (unlocked) => RUNNABLE_JOBS[job](context, unlocked));
  } catch (error) {
    if (!(error instanceof ToolError)) internal = error;
    outcome = {
      result: 'failure',
      exitCode: error instanceof ToolError ? error.exitCode : ExitCode.Internal,
      message: error instanceof Error ? error.message : String(error),
    };
  } finally {
    signals.stop();
    await scheduleWarning;
  }
  const signal = stopSignal();
  if (signal && outcome.result !== 'success') {
    outcome = {
      ...outcome,
      result: 'interrupted',
      exitCode: ExitCode.Interrupted,
      message: `stopped by ${signal} (systemctl stop, a timeout or Ctrl-C): ${outcome.message}`,
    };
  }
  const invocation = process.env.INVOCATION_ID;
  const status = await reportRun(context, { name, job, profile, outcome, start, scheduleInterval, invocation });
  // Left behind, it is older than the status just written: nothing reads it as a killed run.
  if (recorded) removeRunRecordQuietly(context, name, job);

  const url = profile && jobPingUrl(profile, job);
  if (url) await ping(context, url, outcome.result === 'success' ? '' : '/fail', outcome.message);

  if (internal) throw internal;
  if (context.json) context.print(JSON.stringify(status, null, 2));
  if (outcome.result === 'success') {
    log.info(`${job} of ${name}: ${outcome.message}`);
    return;
  }
  if (outcome.exitCode === ExitCode.Ok) {
    // A warning the job does not fail for (PG_ON_PRIMARY=skip): status reports it.
    log.warn(`${job} of ${name}: ${outcome.message}`);
    return;
  }
  const verdict = { warning: 'finished with a warning', interrupted: 'was interrupted', failure: 'failed' }[
    outcome.result
  ];
  throw new JobError(`${job} of ${name} ${verdict}: ${outcome.message}`, outcome.exitCode);
}
