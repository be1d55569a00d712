/**
 * The restic@ job: back up BACKUP_PATHS, and after a successful backup apply the retention to this
 * host's snapshots of this profile's backup job only. Stale locks are removed when one is in the way.
 */
import { refuseAfterStop } from './stop-request.js';
import fs from 'node:fs';
import type { Context } from '../context.js';
import { ExitCode, JobError } from '../errors.js';
import {
  RESTIC_EXIT,
  backupArgs,
  forgetArgs,
  jobTags,
  parseBackupLine,
  readableResticOutput,
  snapshotHost,
  type BackupSummary,
} from '../tools/restic.js';
import { withRepositoryLock } from '../locks/repository-lock.js';
import { onHost } from '../paths.js';
import type { Profile } from '../profile/model.js';
import { hasRetention } from '../profile/load.js';
import { formatBytes } from '../reporting/format.js';
import { progressReporter } from '../reporting/progress.js';
import type { JobOutcome } from './job.js';
import { callRestic, callResticUnlockingStale, openRestic, type Restic } from './restic-call.js';
import { fullSnapshotId } from './snapshot-ids.js';

export async function backupJob(context: Context, profile: Profile): Promise<JobOutcome> {
  const { paths, log } = context;
  if (!profile.fileBackup) {
    throw new JobError(
      `the file backup of ${profile.name} is off: the profile configures a database and sets no BACKUP_PATHS. ` +
        (`Set BACKUP_PATHS in ${profile.file} to back up files too, or stop the timer: systemctl disable --now ` +
          `restic@${profile.name}.timer`),
      ExitCode.InvalidProfile,
    );
  }
  const restic = await openRestic(context, profile);
  const host = snapshotHost(profile);
  const sources = profile.values.BACKUP_PATHS.map((path) => onHost(paths, path));
  const missing = sources.filter((source) => !fs.existsSync(source));
  const present = sources.filter((source) => !missing.includes(source));
  const base = { host, resticVersion: restic.version.text };
  const listed = (profile.values.BACKUP_FILES_FROM ?? []).length > 0;
  if (present.length === 0 && !listed) {
    return {
      ...base,
      result: 'failure',
      exitCode: ExitCode.CommandFailed,
      message:
        `none of BACKUP_PATHS exists (${missing.join(' ')}): nothing was backed up; mount the volume or fix ` +
        `BACKUP_PATHS`,
    };
  }

  return withRepositoryLock(context, profile, 'backup', async () => {
    let summary: BackupSummary | undefined;
    const progress = progressReporter(context, `backup of ${profile.name}`);
    const backup = await callResticUnlockingStale(
      restic,
      'restic backup',
      backupArgs(profile, host, present, (target) => onHost(paths, target)),
      {
        onStdoutLine: (line) => {
          summary = parseBackupLine(line) ?? summary;
          progress.onLine(line);
        },
      },
      [RESTIC_EXIT.incomplete],
    ).finally(progress.done);
    const saved =
      `snapshot ${summary?.snapshotId?.slice(0, 8) ?? '(unknown)'} saved: ${summary?.filesNew ?? 0} new and ` +
      `${summary?.filesChanged ?? 0} changed files, ${formatBytes(summary?.bytesAdded ?? 0)} added`;

    const problems: string[] = [];
    if (missing.length > 0)
      problems.push(`these BACKUP_PATHS do not exist and were not backed up: ${missing.join(' ')}`);
    if (backup.exitCode === RESTIC_EXIT.incomplete) {
      const unreadable = readableResticOutput(backup.stderr).filter(
        (line) => !/^Warning: at least one source file could not be read/.test(line),
      );
      problems.push(
        `some files could not be read (restic exit 3):\n${unreadable.slice(0, 10).join('\n')}` +
          (unreadable.length > 10 ? `\n… and ${unreadable.length - 10} more` : ''),
      );
    }
    const stats = (forgetOutput?: string) => ({
      snapshotId: summary?.snapshotId ? fullSnapshotId(summary.snapshotId, forgetOutput) : undefined,
      filesNew: summary?.filesNew,
      filesChanged: summary?.filesChanged,
      bytesAdded: summary?.bytesAdded,
    });
    if (problems.length > 0 && !profile.values.BACKUP_WARNING_IS_SUCCESS) {
      return {
        ...base,
        ...(await withFullId(restic, stats())),
        result: 'warning',
        exitCode: ExitCode.BackupWarning,
        message: `${saved}, but ${problems.join('; ')}. Retention did not run.`,
      };
    }
    problems.forEach((problem) => log.warn(problem));

    const values = profile.values;
    if (!hasRetention(values))
      return {
        ...base,
        ...(await withFullId(restic, stats())),
        result: 'success',
        exitCode: ExitCode.Ok,
        message: `${saved}; no retention rule, so every snapshot is kept (BACKUP_KEEP_WITHIN is empty)`,
      };
    refuseAfterStop(saved, 'the retention');
    const forget = await callResticUnlockingStale(
      restic,
      'retention (restic forget)',
      forgetArgs(host, jobTags(profile.name, 'backup'), {
        within: values.BACKUP_KEEP_WITHIN,
        withinHourly: values.BACKUP_KEEP_WITHIN_HOURLY,
        withinDaily: values.BACKUP_KEEP_WITHIN_DAILY,
        withinWeekly: values.BACKUP_KEEP_WITHIN_WEEKLY,
        withinMonthly: values.BACKUP_KEEP_WITHIN_MONTHLY,
        withinYearly: values.BACKUP_KEEP_WITHIN_YEARLY,
        last: values.BACKUP_KEEP_LAST,
        hourly: values.BACKUP_KEEP_HOURLY,
        daily: values.BACKUP_KEEP_DAILY,
        weekly: values.BACKUP_KEEP_WEEKLY,
        monthly: values.BACKUP_KEEP_MONTHLY,
        yearly: values.BACKUP_KEEP_YEARLY,
      }),
    );
    return {
      ...base,
      ...(await withFullId(restic, stats(forget.stdout))),
      result: 'success',
      exitCode: ExitCode.Ok,
      message: `${saved}; retention applied`,
    };
  });
}

/** restic 0.14 prints the short ID only: when forget's answer did not name the snapshot, ask restic. */
async function withFullId<T extends { snapshotId?: string }>(restic: Restic, stats: T): Promise<T> {
  if (!stats.snapshotId || stats.snapshotId.length === 64) return stats;
  const listed = await callRestic(restic, 'finding the snapshot just saved', [
    'snapshots',
    '--json',
    stats.snapshotId,
  ]).catch(() => undefined);
  return { ...stats, snapshotId: fullSnapshotId(stats.snapshotId, listed?.stdout) };
}
