/**
 * What a profile puts into its units, as data: per job, the timer's schedule and delay, the
 * service's timeout and the paths its sandbox may write. The drop-ins are rendered from it, carry
 * it (RESTIC_SYSTEMD_UNIT_SETTINGS in the service's environment), and a job started by systemd
 * compares it with what its profile says now: an edited profile never runs silently on the
 * settings of the units it was installed with.
 */
import type { Profile } from '../profile/model.js';
import { JOBS, jobKeys, spoolsDumps, type UnitJob } from '../profile/jobs.js';
import { profileCredentials } from '../profile/credentials.js';

/** The variable of the service drop-in that carries the settings it was made from. */
export const SETTINGS_VARIABLE = 'RESTIC_SYSTEMD_UNIT_SETTINGS';

export interface UnitSettings {
  schedule?: string;
  randomizedDelay: string;
  timeout: string;
  /** Paths the sandbox may write (ProtectSystem=strict): a local repository, the metrics folder. */
  writablePaths: string[];
  /** The profile's encrypted credentials the service loads (LoadCredentialEncrypted=). */
  credentials?: string[];
}

export function unitSettings(profile: Profile, job: UnitJob): UnitSettings {
  const values = profile.values as Record<string, unknown>;
  const keys = jobKeys(job);
  const schedule = values[keys.schedule] as string | undefined;
  const credentials = profileCredentials(profile);
  return {
    ...(schedule === undefined ? {} : { schedule }),
    randomizedDelay: values[keys.randomizedDelay] as string,
    timeout: values[keys.timeout] as string,
    // Only when there are any: the settings of a profile without credentials stay as they were.
    ...(credentials.length > 0 ? { credentials } : {}),
    writablePaths: [
      profile.localRepository,
      profile.values.BACKUP_METRICS_DIR,
      ...(JOBS[job].writesSpool && spoolsDumps(profile) ? [profile.values.PG_SPOOL_DIR] : []),
    ].filter((item): item is string => item !== undefined),
  };
}

/** The settings as one word for an Environment= line (base64url of JSON: no quoting, no specifier). */
export function encodeSettings(settings: UnitSettings): string {
  return Buffer.from(JSON.stringify(settings)).toString('base64url');
}

export function decodeSettings(text: string | undefined): UnitSettings | undefined {
  if (!text) return undefined;
  try {
    const settings = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as UnitSettings;
    return Array.isArray(settings.writablePaths) ? settings : undefined;
  } catch {
    return undefined;
  }
}

export interface Drift {
  /** What differs, a sentence each. */
  differences: string[];
  /** The sandbox does not let the job write a path it needs: it cannot run as installed. */
  blocking: boolean;
}

/** How the units' settings differ from what the profile says now (empty when they agree). */
export function settingsDrift(job: UnitJob, expected: UnitSettings, installed: UnitSettings): Drift {
  const keys = jobKeys(job);
  const differences: string[] = [];
  const changed = (key: string, now: string | undefined, then: string | undefined) => {
    if (now !== then)
      differences.push(
        `${key} is ${now === undefined ? 'not set' : JSON.stringify(now)} in the profile, but the units run ` +
          `with ${then === undefined ? 'none' : JSON.stringify(then)}`,
      );
  };
  changed(keys.schedule, expected.schedule, installed.schedule);
  changed(keys.randomizedDelay, expected.randomizedDelay, installed.randomizedDelay);
  changed(keys.timeout, expected.timeout, installed.timeout);
  const missing = expected.writablePaths.filter((item) => !installed.writablePaths.includes(item));
  if (missing.length > 0)
    differences.push(
      `the sandbox does not let the job write ${missing.join(' ')} (it allows ` +
        `${installed.writablePaths.join(' ') || "none of the profile's paths"})`,
    );
  const unloaded = (expected.credentials ?? []).filter((key) => !(installed.credentials ?? []).includes(key));
  if (unloaded.length > 0)
    differences.push(
      `the units do not load the encrypted credential${unloaded.length > 1 ? 's' : ''} ${unloaded.join(' ')}`,
    );
  return { differences, blocking: missing.length > 0 || unloaded.length > 0 };
}
