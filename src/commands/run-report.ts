/**
 * What every run leaves behind, success or not: its status file, its metrics (when the profile
 * names a textfile folder) and, for the jobs that pause a standby, whether the standby was left
 * paused. A report that cannot be written (disk full) is logged: it never hides the run's result. A name that
 * never was a profile (a typo: no file, no earlier run) leaves no status file behind.
 */
import fs from 'node:fs';
import type { Context } from '../context.js';
import { standbyLeftPaused } from '../jobs/database/pg-marker.js';
import type { JobOutcome } from '../jobs/job.js';
import { entryOnHost, profileFile } from '../paths.js';
import { JOBS, jobSchedule, type JobName, type JobSpec } from '../profile/jobs.js';
import type { Profile } from '../profile/model.js';
import {
  failureFields,
  readStatus,
  writeMetrics,
  writeStandbyMetrics,
  writeStatus,
  type JobStatus,
} from '../reporting/status-file.js';
import { calendarInterval } from '../tools/systemd-analyze.js';

/** The interval of the job's schedule when the profile writes metrics (undefined otherwise, or for a job without a
 * schedule). */
export function metricsScheduleInterval(context: Context, profile: Profile, job: JobName): Promise<number | undefined> {
  const schedule = profile.values.BACKUP_METRICS_DIR ? jobSchedule(profile, job) : undefined;
  // A schedule systemd-analyze cannot read was refused at install: no interval is then the honest answer.
  return schedule ? calendarInterval(context.runner, schedule).catch(() => undefined) : Promise.resolve(undefined);
}

export interface RunRecord {
  name: string;
  job: JobName;
  /** Undefined when the profile could not be loaded. */
  profile?: Profile;
  outcome: JobOutcome;
  start: Date;
  scheduleInterval: Promise<number | undefined>;
  /** systemd's INVOCATION_ID of the unit's run (ExecStart= and ExecStopPost= share it), when a unit runs it. */
  invocation?: string;
}

/** Write the run's status file and metrics; returns the status. */
export async function reportRun(context: Context, run: RunRecord): Promise<JobStatus> {
  const { paths, log } = context;
  const { name, job, outcome } = run;
  const end = new Date();
  const previous = readStatus(paths, name, job);
  const status: JobStatus = {
    profile: name,
    job,
    ...outcome,
    ...failureFields({ ...outcome, end: end.toISOString() }, previous, run.invocation),
    start: run.start.toISOString(),
    end: end.toISOString(),
    durationSeconds: (end.getTime() - run.start.getTime()) / 1000,
    lastSuccess: outcome.result === 'success' ? end.toISOString() : (previous?.lastSuccess ?? null),
    lastSnapshot:
      outcome.snapshotId && (outcome.result === 'success' || outcome.result === 'warning')
        ? { id: outcome.snapshotId, time: end.toISOString() }
        : (previous?.lastSnapshot ?? null),
  };
  const typo = !run.profile && !previous && !fs.existsSync(entryOnHost(paths, profileFile(paths, name)));
  try {
    if (!typo) writeStatus(paths, status);
  } catch (error) {
    log.error(`could not write the status file: ${(error as Error).message}`);
  }
  if (run.profile) await reportMetrics(context, run.profile, status, run.scheduleInterval);
  return status;
}

/** The metrics of a status, when the profile names a textfile folder; a failure to write them is logged. */
export async function reportMetrics(
  context: Context,
  profile: Profile,
  status: JobStatus,
  scheduleInterval: Promise<number | undefined>,
): Promise<void> {
  const { paths, log } = context;
  const metricsDir = profile.values.BACKUP_METRICS_DIR;
  try {
    if (metricsDir) {
      writeMetrics(paths, metricsDir, status, { scheduleIntervalSeconds: await scheduleInterval });
      const spec: JobSpec = JOBS[status.job as JobName];
      if (spec.reportsStandby)
        writeStandbyMetrics(paths, metricsDir, profile.name, standbyLeftPaused(paths, profile.name));
    }
  } catch (error) {
    log.error(`could not write the metrics: ${(error as Error).message}`);
  }
}
