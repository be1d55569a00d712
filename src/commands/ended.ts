/**
 * `ended <job> <name>`: ExecStopPost= of every job's unit, however its main process ended. A run that
 * ended without writing its result (SIGKILL, the OOM killer) left its run record: this writes the
 * failed run's status file and metrics in its stead, with how systemd says it ended, so that status,
 * the metrics and the notification (OnFailure=, after it) name the failure instead of an earlier run.
 * After a run that wrote its result it does nothing.
 */
import type { Context } from '../context.js';
import { JOBS, type JobName } from '../profile/jobs.js';
import { loadJobProfile, type Profile } from '../profile/load.js';
import { assertProfileName } from '../profile/name.js';
import { howItEnded, readRunRecord, removeRunRecord, stillRunning, unfinishedRun } from '../reporting/run-record.js';
import { readStatus } from '../reporting/status-file.js';
import { metricsScheduleInterval, reportMetrics, reportRun } from './run-report.js';

export async function endedCommand(context: Context, job: JobName, name: string): Promise<void> {
  const { paths, log } = context;
  assertProfileName(name);
  // No record: the run removed it after writing its status. A live one: another run of the job (by hand) goes on.
  const record = readRunRecord(paths, name, job);
  if (!record || stillRunning(paths, record)) return;
  const previous = readStatus(paths, name, job);
  const unfinished = unfinishedRun(paths, name, job, previous, howItEnded(process.env));
  let profile: Profile | undefined;
  try {
    profile = await loadJobProfile(name, process.env, paths);
  } catch (error) {
    log.warn(`the profile could not be read (${(error as Error).message}): the status file only, no metrics`);
  }
  const scheduleInterval = profile ? metricsScheduleInterval(context, profile, job) : Promise.resolve(undefined);
  if (unfinished) {
    const { result, exitCode, message } = unfinished;
    const start = new Date(unfinished.start);
    const outcome = { result, exitCode, message };
    const invocation = process.env.INVOCATION_ID;
    await reportRun(context, { name, job, profile, outcome, start, scheduleInterval, invocation });
    log.error(`${JOBS[job].description} of ${name}: ${message}`);
  } else if (previous && profile) {
    // Its status was written for it after it ended (pg-cleanup, before this): the metrics say the same.
    await reportMetrics(context, profile, previous, scheduleInterval);
  }
  removeRunRecord(paths, name, job);
}
