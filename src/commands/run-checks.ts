/**
 * Before a job started by systemd does anything: do the units it runs in match the profile it has
 * just read? systemd reads the profile afresh at every start, but the schedule, timeout and
 * sandbox come from drop-ins made when the profile was installed (or generated at the last
 * daemon-reload). A difference is named in the journal; one that keeps the job from writing its
 * repository fails the run at once, naming the command that fixes it, instead of leaving restic to
 * retry a read-only repository for minutes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { ExitCode, JobError } from '../errors.js';
import { onHost, profileFile } from '../paths.js';
import type { Profile } from '../profile/model.js';
import type { UnitJob } from '../profile/jobs.js';
import { SETTINGS_VARIABLE, decodeSettings, settingsDrift, unitSettings } from '../units/settings.js';

/** The nearest folder of `target` that exists: where a repository not created yet would be made. */
function nearestExisting(target: string): string {
  let folder = target;
  while (!fs.existsSync(folder) && path.dirname(folder) !== folder) folder = path.dirname(folder);
  return folder;
}

/** The paths the job must write that this process (in its sandbox) cannot write. */
function unwritable(context: Context, paths: readonly string[]): string[] {
  return paths.filter((item) => {
    try {
      fs.accessSync(nearestExisting(onHost(context.paths, item)), fs.constants.W_OK);
      return false;
    } catch (error) {
      // EROFS: ProtectSystem=strict without this path in ReadWritePaths=.
      return (error as NodeJS.ErrnoException).code === 'EROFS';
    }
  });
}

/** Check the units against the profile: returns what differs (logged as warnings), or throws UnitsOutdated. */
export function checkInstalledUnits(
  context: Context,
  profile: Profile,
  job: UnitJob,
  environment: NodeJS.ProcessEnv = process.env,
): string[] {
  const expected = unitSettings(profile, job);
  const installed = decodeSettings(environment[SETTINGS_VARIABLE]);
  const fix = `run: restic-systemd install ${profile.name}`;
  const file = profileFile(context.paths, profile.name);
  const differences = installed
    ? settingsDrift(job, expected, installed).differences
    : [
        `the units of ${profile.name} carry no settings of its profile: it was never installed, and systemd ` +
          `has not run restic-systemd's generator since it was written (systemctl daemon-reload)`,
      ];
  const blocked = unwritable(context, expected.writablePaths);
  if (blocked.length > 0) {
    throw new JobError(
      `the sandbox of this unit does not let the job write ${blocked.join(' ')}, which ${file} now needs; ` +
        `nothing was done. ` +
        `${differences.join('; ')}. To fix it, ${fix}`,
      ExitCode.UnitsOutdated,
    );
  }
  if (differences.length === 0) return [];
  const warning =
    `the units differ from ${file}: ${differences.join('; ')}. This run goes on with the profile's values where ` +
    `it can; ${fix}`;
  context.log.warn(warning);
  return [warning];
}
