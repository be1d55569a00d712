/**
 * THE job table: every job `restic-systemd run <job> <name>` knows, one row each, and which jobs a
 * profile runs. Units, commands, run, render and notify read a job's facts here instead of naming
 * it. A new job is a row here, a job file (src/jobs/) and its templates (templates/<family>@.*).
 */
import type { FieldKey } from './fields.js';
import type { Profile } from './model.js';

/** Which profiles have the job: every profile (the repository's), those backing up files, those with a database. */
export type JobScope = 'repository' | 'files' | 'database';

export interface JobSpec {
  /** What it does, for docs and --help. */
  description: string;
  /** The units' family, <family>@<name>.service/.timer; none for a job that runs inside another job's unit. */
  family?: string;
  scope: JobScope;
  /** The profile keys of its timer and service: schedule (no value: no timer), randomized delay, timeout. */
  keys?: { schedule: FieldKey; randomizedDelay: FieldKey; timeout: FieldKey };
  /** The key of its Healthchecks-style ping URL. */
  pingKey?: FieldKey;
  /** Capabilities of its service beyond reading and owning files: runuser (PG_OS_USER) changes user. */
  changesUser: boolean;
  /** The job its unit's ExecStopPost= runs, however the main process ended (the safety net). */
  stopPost?: string;
  /** It pauses a standby's replay: after each run its metrics say whether the standby was left paused. */
  reportsStandby: boolean;
  /** Writes the dump spool (PG_SPOOL_DIR) when the profile spools. */
  writesSpool: boolean;
  /**
   * Unlocks the profile's encrypted credentials itself, after work that needs none, and may not run
   * restic at all (pg-cleanup restores the standby first). Every other job gets them unlocked, and
   * restic's version is asked as the run starts.
   */
  unlocksCredentialsItself: boolean;
}

const DEFAULTS = {
  changesUser: false,
  reportsStandby: false,
  writesSpool: false,
  unlocksCredentialsItself: false,
} as const;

/** A row: what it says, the defaults for the rest (kept as literal types, so that UnitJob is exact). */
function job<const T extends Partial<JobSpec> & Pick<JobSpec, 'description' | 'scope'>>(
  spec: T,
): Omit<typeof DEFAULTS, keyof T> & T {
  return { ...DEFAULTS, ...spec };
}

export const JOBS = {
  backup: job({
    description: 'restic backup',
    family: 'restic',
    scope: 'files',
    keys: { schedule: 'BACKUP_SCHEDULE', randomizedDelay: 'BACKUP_RANDOMIZED_DELAY', timeout: 'BACKUP_TIMEOUT' },
    pingKey: 'BACKUP_PING_URL',
  }),
  maintenance: job({
    description: 'restic prune and check',
    family: 'restic-maintenance',
    scope: 'repository',
    keys: {
      schedule: 'BACKUP_MAINTENANCE_SCHEDULE',
      randomizedDelay: 'BACKUP_MAINTENANCE_RANDOMIZED_DELAY',
      timeout: 'BACKUP_MAINTENANCE_TIMEOUT',
    },
  }),
  'pg-backup': job({
    description: 'PostgreSQL dump from a paused standby into restic',
    family: 'pg-backup',
    scope: 'database',
    keys: {
      schedule: 'PG_BACKUP_SCHEDULE',
      randomizedDelay: 'PG_BACKUP_RANDOMIZED_DELAY',
      timeout: 'PG_BACKUP_TIMEOUT',
    },
    pingKey: 'PG_BACKUP_PING_URL',
    changesUser: true,
    stopPost: 'pg-cleanup',
    reportsStandby: true,
    writesSpool: true,
  }),
  'pg-cleanup': job({
    description: "the database job's safety net: undo what a run that did not finish changed",
    scope: 'database',
    reportsStandby: true,
    writesSpool: true,
    unlocksCredentialsItself: true,
  }),
  'pg-verify': job({
    description: 'restore drill of the latest PostgreSQL dump',
    family: 'pg-verify',
    scope: 'database',
    keys: {
      schedule: 'PG_VERIFY_SCHEDULE',
      randomizedDelay: 'PG_VERIFY_RANDOMIZED_DELAY',
      timeout: 'PG_VERIFY_TIMEOUT',
    },
    changesUser: true,
  }),
} as const satisfies Record<string, JobSpec>;

/** Every job `run` knows, in the order the docs list them. */
export type JobName = keyof typeof JOBS;
export const JOB_NAMES = Object.keys(JOBS) as JobName[];

/** The jobs that have units of their own (a template service and timer pair). */
export type UnitJob = { [K in JobName]: (typeof JOBS)[K] extends { family: string } ? K : never }[JobName];
export const UNIT_JOBS = JOB_NAMES.filter((name): name is UnitJob => 'family' in JOBS[name]);

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOBS, name);
}

export function isUnitJob(name: JobName): name is UnitJob {
  return (UNIT_JOBS as readonly string[]).includes(name);
}

/** The job of a unit family (restic → backup), if it is one of ours. */
export function jobOfFamily(family: string): UnitJob | undefined {
  return UNIT_JOBS.find((name) => JOBS[name].family === family);
}

/** The schedule, delay and timeout keys of a job with units. */
export function jobKeys(name: UnitJob): { schedule: FieldKey; randomizedDelay: FieldKey; timeout: FieldKey } {
  return JOBS[name].keys;
}

/** The value of a job's schedule in a profile: undefined when the job has no timer for it. */
export function jobSchedule(profile: Profile, name: JobName): string | undefined {
  const spec: JobSpec = JOBS[name];
  return spec.keys ? (profile.values[spec.keys.schedule] as string | undefined) : undefined;
}

/** The ping URL of a job, if the profile sets one. */
export function jobPingUrl(profile: Profile, name: JobName): string | undefined {
  const spec: JobSpec = JOBS[name];
  return spec.pingKey ? (profile.values[spec.pingKey] as string | undefined) : undefined;
}

/** Whether the database job writes its dump to disk before restic stores it (PG_SPOOL_DIR). */
export function spoolsDumps(profile: Profile): boolean {
  return profile.values.PG_DUMP_FORMAT === 'directory' || profile.values.PG_DUMP_MODE !== 'stream';
}

function inScope(profile: Profile, scope: JobScope): boolean {
  return scope === 'repository' || (scope === 'files' ? profile.fileBackup : profile.databaseConfigured);
}

/** The jobs whose service can run for a profile, by a timer or by `systemctl start` (the restore drill's whenever
 * there is a database). */
export function profileServiceJobs(profile: Profile): UnitJob[] {
  return UNIT_JOBS.filter((name) => inScope(profile, JOBS[name].scope));
}

/**
 * The jobs a profile runs on a schedule: the file backup when it is on (profile.fileBackup), the
 * maintenance of the repository always, the database dump when configured, the restore drill
 * when scheduled (a job whose schedule key has no value has no timer).
 */
export function profileJobs(profile: Profile): UnitJob[] {
  return profileServiceJobs(profile).filter((name) => jobSchedule(profile, name) !== undefined);
}
