/** `list`: the profiles found, and whether each is installed, enabled and healthy. */
import type { Context } from '../context.js';
import { enabledUnits } from '../tools/systemctl.js';
import { jobHealth } from './job-health.js';
import { installedProfiles } from '../units/install.js';
import { instanceUnit } from '../units/names.js';
import { assertSomethingToCheck, loadForReport, profileNames } from './status.js';
import { profileJobs } from '../profile/jobs.js';
import { formatTable } from '../reporting/table.js';

export interface ProfileListing {
  name: string;
  installed: boolean;
  /** Every timer of the profile's scheduled jobs is enabled. */
  enabled: boolean;
  /** Per scheduled job: whether its timer is enabled. */
  enabledJobs: Record<string, boolean>;
  healthy: boolean;
  problems: string[];
}

export async function listCommand(context: Context): Promise<ProfileListing[]> {
  const installed = new Set(await installedProfiles(context.paths));
  const names = profileNames(context, [], [...installed]);
  assertSomethingToCheck(context, [], names);
  const listings: ProfileListing[] = [];
  for (const name of names) {
    const profile = await loadForReport(context, name);
    const jobs = typeof profile === 'string' ? [] : profileJobs(profile);
    const timers = jobs.map((job) => instanceUnit(job, 'timer', name));
    const enabled = timers.length > 0 ? await enabledUnits(context.runner, context.paths, timers) : new Set<string>();
    const problems =
      typeof profile === 'string'
        ? [profile]
        : (await jobHealth(context, profile)).filter((job) => !job.healthy).map((job) => `${job.job}: ${job.problem}`);
    const enabledJobs = Object.fromEntries(jobs.map((job) => [job, enabled.has(instanceUnit(job, 'timer', name))]));
    listings.push({
      name,
      installed: installed.has(name),
      enabled: jobs.length > 0 && Object.values(enabledJobs).every(Boolean),
      enabledJobs,
      healthy: problems.length === 0,
      problems,
    });
  }
  if (context.json) {
    context.print(JSON.stringify(listings, null, 2));
  } else {
    const yes = (value: boolean) => (value ? 'yes' : 'no');
    // "yes" when every timer of the profile is enabled; else the jobs whose timers are.
    const enabledText = (entry: ProfileListing) => {
      const on = Object.entries(entry.enabledJobs).filter(([, value]) => value);
      if (entry.enabled) return 'yes';
      return on.length === 0 ? 'no' : `only ${on.map(([job]) => job).join(', ')}`;
    };
    context.print(
      formatTable(
        ['PROFILE', 'INSTALLED', 'ENABLED', 'HEALTHY', 'PROBLEMS'],
        listings.map((entry) => [
          entry.name,
          yes(entry.installed),
          enabledText(entry),
          yes(entry.healthy),
          entry.problems.join('; '),
        ]),
      ),
    );
  }
  return listings;
}
