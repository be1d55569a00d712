/** `list`: the profiles found, and whether each is installed, enabled and healthy. */
import type { Context } from '../context.js';
import { enabledUnits } from '../tools/systemctl.js';
import { jobHealth } from './job-health.js';
import { installedProfiles } from '../units/install.js';
import { instanceUnit } from '../units/names.js';
import { loadForReport, profileNames } from './status.js';
import { formatTable } from '../reporting/table.js';

export interface ProfileListing {
  name: string;
  installed: boolean;
  enabled: boolean;
  healthy: boolean;
  problems: string[];
}

export async function listCommand(context: Context): Promise<ProfileListing[]> {
  const installed = new Set(await installedProfiles(context.paths));
  const names = [...new Set([...(await profileNames(context, [])), ...installed])].sort();
  const enabled = await enabledUnits(
    context.runner,
    context.paths,
    names.map((name) => instanceUnit('backup', 'timer', name)),
  );
  const listings: ProfileListing[] = [];
  for (const name of names) {
    const profile = await loadForReport(context, name);
    const problems =
      typeof profile === 'string'
        ? [profile]
        : (await jobHealth(context, profile)).filter((job) => !job.healthy).map((job) => `${job.job}: ${job.problem}`);
    listings.push({
      name,
      installed: installed.has(name),
      enabled: enabled.has(instanceUnit('backup', 'timer', name)),
      healthy: problems.length === 0,
      problems,
    });
  }
  if (context.json) {
    context.print(JSON.stringify(listings, null, 2));
  } else {
    const yes = (value: boolean) => (value ? 'yes' : 'no');
    context.print(
      formatTable(
        ['PROFILE', 'INSTALLED', 'ENABLED', 'HEALTHY', 'PROBLEMS'],
        listings.map((entry) => [
          entry.name,
          yes(entry.installed),
          yes(entry.enabled),
          yes(entry.healthy),
          entry.problems.join('; '),
        ]),
      ),
    );
  }
  return listings;
}
