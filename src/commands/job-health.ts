/**
 * Whether each job of a profile is healthy: its units must have been made from the profile as it
 * is now (installed, or generated at the last daemon-reload, and not edited since), and from its
 * status file and its schedule, the last run must have succeeded, and not be older than twice the
 * time between two runs of its timer.
 */
import type { Context } from '../context.js';
import type { TimerTimes } from '../tools/systemctl.js';
import { calendarInterval } from '../tools/systemd-analyze.js';
import type { Profile } from '../profile/model.js';
import { installedUnit } from '../units/install.js';
import { instanceUnit } from '../units/names.js';
import { jobSchedule, profileJobs, profileServiceJobs, type UnitJob } from '../profile/jobs.js';
import { settingsDrift, unitSettings } from '../units/settings.js';
import { readRunRecord, stillRunning, unfinishedRun } from '../reporting/run-record.js';
import { readStatusChecked, type JobStatus } from '../reporting/status-file.js';
import { age as ageOf } from '../reporting/table.js';

export interface JobHealth {
  job: UnitJob;
  schedule?: string;
  status?: JobStatus;
  healthy: boolean;
  /** Why not, or "never run". */
  problem?: string;
}

async function neverRun(
  context: Context,
  unit: string,
  timer: TimerTimes | undefined,
  schedule: string | undefined,
  now: number,
): Promise<{ healthy: boolean; problem: string }> {
  if (!timer) return { healthy: true, problem: 'never run' };
  if (!timer.next)
    return { healthy: false, problem: `never run, and ${unit} has no next run: systemctl enable --now ${unit}` };
  const interval = schedule ? await calendarInterval(context.runner, schedule) : undefined;
  const since = timer.activeSince ? (now - Date.parse(timer.activeSince)) / 1000 : 0;
  if (interval !== undefined && since > 2 * interval)
    return {
      healthy: false,
      problem: `never run, though its timer has been active for ${Math.round(since / 3600)} h (${schedule})`,
    };
  return { healthy: true, problem: 'never run' };
}

/** A run that did not succeed: its result and code, and the first line of why. */
function failedRun(status: JobStatus): string {
  const why = status.message?.split('\n')[0];
  return `last run: ${status.result} (exit ${status.exitCode})${why ? `: ${why}` : ''}`;
}

/** Why the job's units do not run what the profile says, if they do not. */
export async function unitsProblem(context: Context, profile: Profile, job: UnitJob): Promise<string | undefined> {
  const installed = await installedUnit(context.paths, instanceUnit(job, 'service', profile.name));
  const fix = `run restic-systemd install ${profile.name}`;
  if (!installed) return `not installed: ${fix}`;
  if (!installed.settings) return `its units were made by an older restic-systemd: ${fix}`;
  const drift = settingsDrift(job, unitSettings(profile, job), installed.settings);
  return drift.differences.length > 0
    ? `the profile was changed after install (${drift.differences.join('; ')}): ${fix}`
    : undefined;
}

/**
 * `timers`: what a running systemd says of the profile's timers (none offline). A job that never
 * ran is healthy, unless its timer has no next run or has been active for longer than twice its
 * schedule without starting it.
 */
export async function jobHealth(
  context: Context,
  profile: Profile,
  timers: ReadonlyMap<string, TimerTimes> = new Map(),
  now = Date.now(),
): Promise<JobHealth[]> {
  const health: JobHealth[] = [];
  const scheduled = profileJobs(profile);
  // Each status file read once; a job without a timer (a restore drill run by hand) is shown whenever it has run.
  const reads = new Map(
    profileServiceJobs(profile).map((job) => [job, readStatusChecked(context.paths, profile.name, job)] as const),
  );
  const byHand = [...reads].filter(([job, read]) => !scheduled.includes(job) && 'status' in read && read.status);
  for (const job of [...scheduled, ...byHand.map(([job]) => job)]) {
    const schedule = jobSchedule(profile, job);
    const read = reads.get(job)!;
    if ('unreadable' in read) {
      health.push({ job, schedule, healthy: false, problem: `${read.unreadable}: the last run is unknown` });
      continue;
    }
    // A run killed before it wrote its result is the last run, not the one before it.
    const status = unfinishedRun(context.paths, profile.name, job, read.status) ?? read.status;
    if (!scheduled.includes(job) && status) {
      const failed = status.result !== 'success';
      health.push({
        job,
        schedule,
        status,
        healthy: !failed,
        ...(failed ? { problem: failedRun(status) } : {}),
      });
      continue;
    }
    const units = await unitsProblem(context, profile, job);
    if (units) {
      health.push({ job, schedule, status, healthy: false, problem: units });
      continue;
    }
    if (!status) {
      const timer = instanceUnit(job, 'timer', profile.name);
      health.push({ job, schedule, ...(await neverRun(context, timer, timers.get(timer), schedule, now)) });
      continue;
    }
    if (status.result !== 'success') {
      health.push({
        job,
        schedule,
        status,
        healthy: false,
        problem: failedRun(status),
      });
      continue;
    }
    const interval = schedule ? await calendarInterval(context.runner, schedule) : undefined;
    const age = (now - Date.parse(status.end)) / 1000;
    if (interval !== undefined && age > 2 * interval) {
      // Late all the same; but a run going on (waiting for the repository lock, say) is not a timer that stopped.
      const record = readRunRecord(context.paths, profile.name, job);
      const going =
        record && Date.parse(record.start) > Date.parse(status.end) && stillRunning(context.paths, record)
          ? `; a run has been going for ${ageOf(record.start, now)}`
          : '';
      health.push({
        job,
        schedule,
        status,
        healthy: false,
        problem: `last run ${ageOf(status.end, now)} ago, more than twice its schedule (${schedule})${going}`,
      });
      continue;
    }
    health.push({ job, schedule, status, healthy: true });
  }
  return health;
}
