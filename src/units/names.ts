/**
 * Every unit and drop-in name restic-systemd uses comes from here (the jobs themselves from
 * profile/jobs.ts).
 */
import path from 'node:path';
import { JOBS, UNIT_JOBS, type UnitJob } from '../profile/jobs.js';

export type UnitType = 'service' | 'timer';
export const UNIT_TYPES: readonly UnitType[] = ['service', 'timer'];

/** restic-systemd's systemd generator, in the generator folder. */
export const GENERATOR_NAME = 'restic-systemd';

/** Drop-ins are named so that an operator's own drop-ins (e.g. 60-local.conf) sort after ours. */
export const DROP_IN_NAME = '50-restic-systemd.conf';

export function templateUnit(job: UnitJob, type: UnitType): string {
  return `${JOBS[job].family}@.${type}`;
}

export function instanceUnit(job: UnitJob, type: UnitType, profile: string): string {
  return `${JOBS[job].family}@${profile}.${type}`;
}

/** The drop-in file of one instance unit, relative to the unit folder. */
export function dropInFile(unit: string): string {
  return path.posix.join(`${unit}.d`, DROP_IN_NAME);
}

/** The unit every job's OnFailure= starts, with the failed unit's name as its instance. */
export const NOTIFY_TEMPLATE = 'restic-notify@.service';

/** The notification instance OnFailure= starts for a failed unit. */
export function notifyUnit(failedUnit: string): string {
  return NOTIFY_TEMPLATE.replace('@', `@${failedUnit}`);
}

/** Every service instance a profile can have: its jobs' and their notifications'. */
export function profileServices(profile: string): string[] {
  const services = UNIT_JOBS.map((job) => instanceUnit(job, 'service', profile));
  return [...services, ...services.map(notifyUnit)];
}

export function allTemplateUnits(): string[] {
  return [...UNIT_JOBS.flatMap((job) => UNIT_TYPES.map((type) => templateUnit(job, type))), NOTIFY_TEMPLATE];
}

/** Every drop-in restic-systemd could have written for a profile, whatever its jobs. */
export function allDropIns(profile: string): string[] {
  return UNIT_JOBS.flatMap((job) => UNIT_TYPES.map((type) => dropInFile(instanceUnit(job, type, profile))));
}

/** The profile name of one of our instance units ("restic@myconf.timer" → "myconf"). */
export function profileOfUnit(unit: string): string | undefined {
  for (const job of UNIT_JOBS) {
    for (const type of UNIT_TYPES) {
      const prefix = `${JOBS[job].family}@`;
      const suffix = `.${type}`;
      if (unit.startsWith(prefix) && unit.endsWith(suffix) && unit.length > prefix.length + suffix.length) {
        return unit.slice(prefix.length, -suffix.length);
      }
    }
  }
  return undefined;
}

/** The profile name of one of our drop-in folders ("restic@myconf.timer.d" → "myconf"). */
export function profileOfDropInFolder(folder: string): string | undefined {
  return folder.endsWith('.d') ? profileOfUnit(folder.slice(0, -2)) : undefined;
}
