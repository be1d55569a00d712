/**
 * The profiles a command is about to install, render or validate: the model's checks and, as
 * systemd itself would parse them, their schedules (systemd-analyze calendar), every problem of
 * every profile in one ProfileError.
 */
import type { Context } from '../context.js';
import { readProfiles, throwIfIssues, type LoadOptions, type Profile } from '../profile/load.js';
import { checkSchedules } from '../tools/schedule-checks.js';

export async function loadCheckedProfiles(
  context: Context,
  names: readonly string[],
  options: LoadOptions = {},
): Promise<Profile[]> {
  const { profiles, issues } = await readProfiles(names, context.paths, options);
  issues.push(...(await checkSchedules(profiles, context.runner)));
  throwIfIssues(issues, names, context.paths);
  return profiles;
}
