/**
 * `uninstall <name…> [--purge]`: disable (and stop) the profiles' timers, remove their drop-ins,
 * and remove the template units with the last profile. Files without our marker are never touched.
 */
import path from 'node:path';
import { assertSystemdOrOffline, type Context } from '../context.js';
import { UsageError } from '../errors.js';
import { daemonReload, disableUnits, enabledUnits, resetFailedUnits } from '../exec/systemctl.js';
import { assertProfileName } from '../profile/name.js';
import { existingOwnDropIns, existingOwnFiles, installedProfiles, removeUnitFiles } from '../units/install.js';
import { JOB_NAMES, allTemplateUnits, instanceUnit, profileServices } from '../units/names.js';
import type { ChangeReport } from './install.js';

export async function uninstallCommand(context: Context, names: readonly string[], purge: boolean): Promise<ChangeReport> {
  const { paths, runner } = context;
  names.forEach(assertProfileName);
  await assertSystemdOrOffline(context, 'uninstall');
  const others = (await installedProfiles(paths)).filter((name) => !names.includes(name));
  if (purge && others.length > 0) {
    throw new UsageError(
      `--purge would remove the template units that these installed profiles still use: ${others.join(', ')}; ` +
        `nothing was changed. Uninstall them too (restic-systemd uninstall ${[...names, ...others].join(' ')} --purge), or drop --purge.`,
    );
  }

  const timers = names.flatMap((name) => JOB_NAMES.map((job) => instanceUnit(job, 'timer', name)));
  const toDisable = [...(await enabledUnits(runner, paths, timers))];
  await disableUnits(runner, paths, toDisable);
  const files: string[] = [];
  for (const name of names) files.push(...(await existingOwnDropIns(paths, name)));
  if (others.length === 0) files.push(...(await existingOwnFiles(paths, allTemplateUnits())));
  await removeUnitFiles(paths, files);
  const removed = files.map((file) => path.posix.join(paths.unitDir, file));
  if (!paths.offline && removed.length > 0) await daemonReload(runner);
  // A failed last run would otherwise stay listed (and keep the system "degraded") after its unit is gone.
  if (!paths.offline) await resetFailedUnits(runner, names.flatMap(profileServices));

  const report: ChangeReport = { changed: removed.length + toDisable.length > 0, written: [], removed, enabled: [], disabled: toDisable };
  if (context.json) {
    context.print(JSON.stringify(report));
  } else {
    toDisable.forEach((unit) => context.print(`disabled ${unit}${paths.offline ? '' : ' (stopped)'}`));
    removed.forEach((file) => context.print(`removed ${file}`));
    if (!report.changed) context.print(`unchanged: nothing of ${names.join(', ')} was installed`);
  }
  return report;
}
