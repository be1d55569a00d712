/**
 * The restic-maintenance@ job: the heavy, rare work kept off the hourly backup. Prune removes the
 * data of snapshots that forget dropped; check reads back a share of the pack files.
 */
import type { Context } from '../context.js';
import { ExitCode } from '../errors.js';
import { withRepositoryLock } from '../locks/repository-lock.js';
import type { Profile } from '../profile/model.js';
import type { JobOutcome } from './job.js';
import { callRestic, openRestic, removeStaleLocks } from './restic-call.js';

export async function maintenanceJob(context: Context, profile: Profile): Promise<JobOutcome> {
  const restic = await openRestic(context, profile);
  return withRepositoryLock(context, profile, 'maintenance', async () => {
    await removeStaleLocks(restic);
    await callRestic(restic, 'restic prune', ['prune']);
    const subset = profile.values.BACKUP_CHECK_SUBSET;
    await callRestic(restic, 'restic check', ['check', `--read-data-subset=${subset}`]);
    return {
      result: 'success',
      exitCode: ExitCode.Ok,
      resticVersion: restic.version.text,
      message: `repository pruned and checked (${subset} of the data read back)`,
    };
  });
}
