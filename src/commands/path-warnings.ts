/**
 * Backup paths that are not there when a profile is validated or installed: a mount that is not up yet is
 * normal, but a typo would make every hourly run fail, so both commands say so before the timer does.
 */
import fs from 'node:fs';
import { onHost, type Paths } from '../paths.js';
import type { Profile } from '../profile/model.js';

export function missingPathWarnings(paths: Paths, profiles: readonly Profile[]): string[] {
  return profiles.flatMap((profile) => {
    if (!profile.fileBackup || (profile.values.BACKUP_FILES_FROM ?? []).length > 0) return [];
    const missing = profile.values.BACKUP_PATHS.filter((item) => !fs.existsSync(onHost(paths, item)));
    if (missing.length === 0) return [];
    const line = profile.lines.BACKUP_PATHS;
    const where = `${profile.file}${line ? `:${line}` : ''}: BACKUP_PATHS`;
    const all = missing.length === profile.values.BACKUP_PATHS.length;
    return [
      `${where}: ${missing.join(' ')} ${missing.length === 1 ? 'does' : 'do'} not exist` +
        (all
          ? ': the backup fails (exit 5) until one of them does; mount it or fix BACKUP_PATHS'
          : ': the backup saves the others and warns (exit 6) while it is missing'),
    ];
  });
}
