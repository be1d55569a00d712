/**
 * Backup paths that are not there when a profile is validated or installed: a mount that is not up yet is
 * normal, but a typo would make every hourly run fail, so both commands say so before the timer does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { otherWriter } from '../files/trust.js';
import { onHost, type Paths } from '../paths.js';
import type { Profile } from '../profile/model.js';
import { unitSettings } from '../units/settings.js';

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

/**
 * Folders the job's sandbox may write (ReadWritePaths=) inside a folder another account controls:
 * that account can swap the folder for a link before the job starts, and systemd follows links when
 * it sets the sandbox up, so the job could then write where the link points (security review 2, N8).
 * restic-systemd's own writer refuses such a link; the warning is for the sandbox.
 */
export function sandboxLinkWarnings(paths: Paths, profiles: readonly Profile[]): string[] {
  return profiles.flatMap((profile) => {
    const writable = new Set(
      (['backup', 'pg-backup'] as const).flatMap((job) => unitSettings(profile, job).writablePaths),
    );
    return [...writable].flatMap((folder) => {
      const parent = onHost(paths, path.posix.dirname(folder));
      if (!fs.existsSync(parent)) return [];
      const writer = otherWriter(parent, path.posix.dirname(folder), paths.root);
      if (!writer || 'unreadable' in writer) return [];
      const who = writer.uid !== undefined ? `uid ${writer.uid}` : `group or others (mode ${writer.mode})`;
      return [
        `${profile.file}: ${folder} is in ${writer.named}, which ${who} can change: they could swap it for a ` +
          `link before a run, and the sandbox (ReadWritePaths=) would let the job write where it points. ` +
          `Prefer a folder whose parents are root's alone (e.g. /var/lib/restic-systemd/metrics, read by ` +
          `node_exporter's --collector.textfile.directory)`,
      ];
    });
  });
}
