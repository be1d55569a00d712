/**
 * `uninstall <name…> [--purge]`: disable (and stop) the profiles' timers and remove their
 * drop-ins. With --purge, also the template units and the generator, which is refused while
 * another profile still uses them (installed, or with an enabled timer). Files without our
 * marker are never touched.
 */
import path from 'node:path';
import { assertSystemdOrOffline, type Context } from '../context.js';
import { UsageError } from '../errors.js';
import { withInstallLock } from '../locks/install-lock.js';
import { daemonReload, disableUnits, enabledUnits, resetFailedUnits } from '../tools/systemctl.js';
import { assertProfileName } from '../profile/name.js';
import {
  existingOwnDropIns,
  existingOwnFiles,
  installedProfiles,
  linkedFromTimersTarget,
  removeGenerator,
  removeUnitFiles,
} from '../units/install.js';
import { UNIT_JOBS } from '../profile/jobs.js';
import { allTemplateUnits, instanceUnit, profileOfUnit, profileServices } from '../units/names.js';
import type { ChangeReport } from './install.js';

/** The profiles whose timers are enabled (linked from timers.target.wants), installed or not. */
function profilesWithEnabledTimers(linked: Set<string>): string[] {
  return [...linked].map(profileOfUnit).filter((name): name is string => name !== undefined);
}

export async function uninstallCommand(
  context: Context,
  names: readonly string[],
  purge: boolean,
): Promise<ChangeReport> {
  names.forEach(assertProfileName);
  await assertSystemdOrOffline(context, 'uninstall');
  const report = await withInstallLock(context, () => uninstallLocked(context, names, purge));
  if (context.json) {
    context.print(JSON.stringify(report, null, 2));
  } else {
    report.disabled.forEach((unit) => context.print(`disabled ${unit}${context.paths.offline ? '' : ' (stopped)'}`));
    report.removed.forEach((file) => context.print(`removed ${file}`));
    if (!report.changed) context.print(`unchanged: nothing of ${names.join(', ')} was installed`);
  }
  return report;
}

async function uninstallLocked(context: Context, names: readonly string[], purge: boolean): Promise<ChangeReport> {
  const { paths, runner } = context;
  const users = new Set([
    ...(await installedProfiles(paths)),
    ...profilesWithEnabledTimers(await linkedFromTimersTarget(paths)),
  ]);
  const others = [...users].filter((name) => !names.includes(name)).sort();
  if (purge && others.length > 0) {
    throw new UsageError(
      `--purge would remove the template units that these profiles still use: ${others.join(', ')}; ` +
        (`nothing was changed. Uninstall them too (restic-systemd uninstall ${[...names, ...others].join(' ')} ` +
          `--purge), or drop --purge.`),
    );
  }

  const timers = names.flatMap((name) => UNIT_JOBS.map((job) => instanceUnit(job, 'timer', name)));
  const toDisable = [...(await enabledUnits(runner, paths, timers))];
  await disableUnits(runner, paths, toDisable);
  const files: string[] = [];
  for (const name of names) files.push(...(await existingOwnDropIns(paths, name)));
  if (purge) files.push(...(await existingOwnFiles(paths, allTemplateUnits())));
  await removeUnitFiles(paths, files);
  const removed = files.map((file) => path.posix.join(paths.unitDir, file));
  if (purge) {
    const generator = await removeGenerator(paths);
    if (generator) removed.push(generator);
  }
  if (!paths.offline && removed.length > 0) await daemonReload(runner);
  // A failed last run would otherwise stay listed (and keep the system "degraded") after its unit is gone.
  if (!paths.offline) await resetFailedUnits(runner, names.flatMap(profileServices));

  return { changed: removed.length + toDisable.length > 0, written: [], removed, enabled: [], disabled: toDisable };
}
