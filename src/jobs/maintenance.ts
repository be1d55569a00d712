/**
 * The restic-maintenance@ job: the heavy, rare work kept off the hourly backup. Prune removes the
 * data of snapshots that forget dropped; check reads back a share of the pack files.
 */
import type { Context } from '../context.js';
import { ExitCode } from '../errors.js';
import { resticEnvironment, resticVersion } from '../exec/restic.js';
import type { Profile } from '../profile/load.js';
import type { JobOutcome } from './job.js';
import { withRepositoryLock } from '../locks/repository-lock.js';
import { callRestic, removeStaleLocks } from './restic-call.js';

export async function maintenanceJob(context: Context, profile: Profile): Promise<JobOutcome> {
  const env = resticEnvironment(profile, context.paths);
  const version = await resticVersion(context.runner);
  return withRepositoryLock(context, profile, 'maintenance', async () => {
    await removeStaleLocks(context, profile.name, env);
    await callRestic(context, profile.name, 'restic prune', ['prune'], { env });
    const subset = profile.values.BACKUP_CHECK_SUBSET;
    await callRestic(context, profile.name, 'restic check', ['check', `--read-data-subset=${subset}`], { env });
    return { result: 'success', exitCode: ExitCode.Ok, resticVersion: version.text, message: `repository pruned and checked (${subset} of the data read back)` };
  });
}
