/**
 * Whether each job of a profile is healthy, from its status file and its schedule: the last run
 * must have succeeded, and not be older than twice the time between two runs of its timer.
 */
import type { Context } from '../context.js';
import { calendarInterval } from '../exec/systemd-analyze.js';
import type { Profile } from '../profile/load.js';
import { JOB_FIELDS, profileJobs } from '../units/render.js';
import type { JobName } from '../units/names.js';
import { readStatus, type JobStatus } from './status-file.js';

export interface JobHealth {
  job: JobName;
  schedule?: string;
  status?: JobStatus;
  healthy: boolean;
  /** Why not, or "never run". */
  problem?: string;
}

export async function jobHealth(context: Context, profile: Profile, now = Date.now()): Promise<JobHealth[]> {
  const health: JobHealth[] = [];
  for (const job of profileJobs(profile)) {
    const schedule = profile.values[JOB_FIELDS[job].schedule];
    const status = readStatus(context.paths, profile.name, job);
    if (!status) {
      health.push({ job, schedule, healthy: true, problem: 'never run' });
      continue;
    }
    if (status.result !== 'success') {
      health.push({ job, schedule, status, healthy: false, problem: `last run: ${status.result} (exit ${status.exitCode})` });
      continue;
    }
    const interval = schedule ? await calendarInterval(context.runner, schedule) : undefined;
    const age = (now - Date.parse(status.end)) / 1000;
    if (interval !== undefined && age > 2 * interval) {
      health.push({ job, schedule, status, healthy: false, problem: `last run ${Math.round(age / 3600)} h ago, more than twice its schedule (${schedule})` });
      continue;
    }
    health.push({ job, schedule, status, healthy: true });
  }
  return health;
}
