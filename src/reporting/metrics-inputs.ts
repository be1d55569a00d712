/** What a run's metrics need beyond its status: its schedule's interval, and the state the database jobs left the standby in. */
import type { Context } from '../context.js';
import { calendarInterval } from '../exec/systemd-analyze.js';
import { readMarker } from '../jobs/database/pg-marker.js';
import type { Paths } from '../paths.js';
import type { Profile } from '../profile/load.js';
import { JOB_FIELDS } from '../units/profile-jobs.js';

/** The interval of the job's schedule when the profile writes metrics (undefined otherwise, or for pg-cleanup, which has none). */
export function metricsScheduleInterval(context: Context, profile: Profile, job: string): Promise<number | undefined> {
  if (!profile.values.BACKUP_METRICS_DIR || !Object.hasOwn(JOB_FIELDS, job)) return Promise.resolve(undefined);
  const schedule = profile.values[JOB_FIELDS[job as keyof typeof JOB_FIELDS].schedule];
  // A schedule systemd-analyze cannot read was refused at install: no interval is then the honest answer.
  return schedule ? calendarInterval(context.runner, schedule).catch(() => undefined) : Promise.resolve(undefined);
}

/** True while a database run's marker says replay is paused or repmgrd stopped by it. */
export function standbyLeftPaused(paths: Paths, profile: string): boolean {
  const marker = readMarker(paths, profile);
  return marker !== undefined && (marker.replayPaused || marker.repmgrdStopped);
}
