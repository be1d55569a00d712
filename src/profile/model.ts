/** A profile as the jobs and units see it: read, checked and typed by profile/load.ts. */
import type { ProfileIssue } from '../errors.js';
import type { ProfileValues } from './fields.js';

export interface Profile {
  name: string;
  /** The profile's path on the target system, e.g. /etc/restic/myconf.conf. */
  file: string;
  /** Every variable of the file, as systemd's EnvironmentFile= passes it to the job. */
  env: Record<string, string>;
  values: ProfileValues;
  /** Line of each key in the file, for messages. */
  lines: Record<string, number>;
  /** True when the profile sets any database key: the pg-backup@ job is installed. */
  databaseConfigured: boolean;
  /** True when the restic@ file backup is on: BACKUP_PATHS is set, or the profile configures no database. */
  fileBackup: boolean;
  /** The repository folder when the repository is local (the sandbox must allow writing it). */
  localRepository?: string;
  /** What `validate` and `install` point out without refusing the profile: keys with no effect. */
  warnings: ProfileIssue[];
}

export interface LoadOptions {
  /** Report a password file that does not exist yet (false for `init --generate-password`). */
  requirePasswordFile?: boolean;
  /** For `credentials`: a secret written again beside its credential is one to move, not a conflict. */
  movingSecrets?: boolean;
}
