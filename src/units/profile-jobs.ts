/**
 * Which jobs a profile runs, and which keys of the profile model hold each job's unit settings.
 * Pure: no rendering here, so that jobs and reports can ask without loading the templates.
 */
import { FIELDS } from '../profile/fields.js';
import type { Profile } from '../profile/load.js';
import { JOB_NAMES, type JobName } from './names.js';

/** Per-job fields of the model: the schedule, delay, timeout keys of each job. */
export const JOB_FIELDS = {
  backup: { schedule: 'BACKUP_SCHEDULE', randomizedDelay: 'BACKUP_RANDOMIZED_DELAY', timeout: 'BACKUP_TIMEOUT' },
  maintenance: { schedule: 'BACKUP_MAINTENANCE_SCHEDULE', randomizedDelay: 'BACKUP_MAINTENANCE_RANDOMIZED_DELAY', timeout: 'BACKUP_MAINTENANCE_TIMEOUT' },
  'pg-backup': { schedule: 'PG_BACKUP_SCHEDULE', randomizedDelay: 'PG_BACKUP_RANDOMIZED_DELAY', timeout: 'PG_BACKUP_TIMEOUT' },
  'pg-verify': { schedule: 'PG_VERIFY_SCHEDULE', randomizedDelay: 'PG_VERIFY_RANDOMIZED_DELAY', timeout: 'PG_VERIFY_TIMEOUT' },
} as const satisfies Record<JobName, Record<string, keyof typeof FIELDS>>;

/**
 * The jobs a profile runs on a schedule: the file backup when it is on (profile.fileBackup), the
 * maintenance of the repository always, the database dump when configured, the restore drill
 * when scheduled.
 */
export function profileJobs(profile: Profile): JobName[] {
  return profileServiceJobs(profile).filter((job) => job !== 'pg-verify' || profile.values.PG_VERIFY_SCHEDULE !== undefined);
}

/** The jobs whose service can run for a profile, by a timer or by `systemctl start`: the restore drill's whenever there is a database. */
export function profileServiceJobs(profile: Profile): JobName[] {
  return JOB_NAMES.filter((job) => (job === 'backup' ? profile.fileBackup : job === 'maintenance' || profile.databaseConfigured));
}

