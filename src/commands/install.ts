/**
 * `install <name…>`: validate every profile, write the units atomically, remove our stale
 * drop-ins, reload systemd only if something changed, and enable (and start) the timers.
 */
import path from 'node:path';
import { assertSystemdOrOffline, type Context, type Entrypoint } from '../context.js';
import fs from 'node:fs';
import { CommandError, EnvironmentError } from '../errors.js';
import { untrusted } from '../files/trust.js';
import { withInstallLock } from '../locks/install-lock.js';
import { daemonReload, disableUnits, enableUnits, enabledUnits, unitsNotLoaded } from '../tools/systemctl.js';
import type { Profile } from '../profile/model.js';
import { loadCheckedProfiles } from './checked-profiles.js';
import {
  existingOwnDropIns,
  linkedFromTimersTarget,
  planGenerator,
  planWrites,
  removeUnitFiles,
  writeGenerator,
  writeUnitFiles,
} from '../units/install.js';
import { instanceUnit } from '../units/names.js';
import { UNIT_JOBS, profileJobs } from '../profile/jobs.js';
import { renderGenerator, renderUnits } from '../units/render.js';
import { profileWarnings } from '../import/foreign-units.js';
import { missingPathWarnings, sandboxLinkWarnings } from './path-warnings.js';
import { probeProfile } from './probes.js';

export interface ChangeReport {
  changed: boolean;
  written: string[];
  removed: string[];
  enabled: string[];
  disabled: string[];
  /** What install points out without refusing: profile keys with no effect, other units that run restic. */
  warnings?: string[];
}

export async function installCommand(context: Context, names: readonly string[]): Promise<ChangeReport> {
  const report = await installUnits(context, names);
  if (context.json) {
    context.print(JSON.stringify(report, null, 2));
  } else {
    report.written.forEach((file) => context.print(`wrote ${file}`));
    report.removed.forEach((file) => context.print(`removed ${file}`));
    report.disabled.forEach((unit) => context.print(`disabled ${unit}`));
    report.enabled.forEach((unit) => context.print(`enabled ${unit}${context.paths.offline ? '' : ' (started)'}`));
    if (!report.changed) context.print(`unchanged: the units of ${names.join(', ')} are up to date`);
  }
  return report;
}

/**
 * The units run this node and this CLI as root at every timer: they must be files only root can
 * change, and so must the CLI's node_modules (an npm install of a user's own would not do).
 */
function checkEntrypoint(entrypoint: Entrypoint): void {
  const modules = path.join(path.dirname(path.dirname(entrypoint.cli)), 'node_modules');
  const problems = [entrypoint.node, entrypoint.cli, ...(fs.existsSync(modules) ? [modules] : [])]
    .map((file) => untrusted(file, file))
    .filter(Boolean);
  if (problems.length > 0)
    throw new EnvironmentError(
      `the units would run as root what another account can change; nothing was ` +
        `changed:\n${problems.map((problem) => `  ${problem}`).join('\n')}`,
    );
}

/** Install without printing: what `install` and `setup` do. */
export async function installUnits(context: Context, names: readonly string[]): Promise<ChangeReport> {
  await assertSystemdOrOffline(context, 'install');
  // Validated first: an invalid profile leaves everything as it was, the lock file included.
  const profiles = await loadCheckedProfiles(context, names);
  checkEntrypoint(context.entrypoint());
  // Checked before the lock too, so that a refused install creates not even the lock file.
  await planChecked(context, profiles);
  // Said before anything is enabled: a second schedule on a repository must not start unnoticed.
  const warnings = [
    ...profileWarnings(context.paths, profiles),
    ...missingPathWarnings(context.paths, profiles),
    ...sandboxLinkWarnings(context.paths, profiles),
    ...(await probeWarnings(context, profiles)),
  ];
  warnings.forEach((warning) => context.log.warn(warning));
  const report = await withInstallLock(context, () => installLocked(context, profiles));
  return warnings.length > 0 ? { ...report, warnings } : report;
}

/** The probes validate runs: installed anyway, but the timer will fail until they pass (newcomer row 4). */
async function probeWarnings(context: Context, profiles: readonly Profile[]): Promise<string[]> {
  const warnings: string[] = [];
  for (const profile of profiles) {
    const { problems } = await probeProfile(context, profile);
    warnings.push(
      ...problems.map(
        (problem) =>
          `${profile.name}: its timers will fail until this is fixed (restic-systemd validate ${profile.name} ` +
          `checks again): ${problem.split('\n')[0]}`,
      ),
    );
  }
  return warnings;
}

async function planChecked(context: Context, profiles: readonly Profile[]) {
  const { paths } = context;
  const files = renderUnits(profiles, { paths, entrypoint: context.entrypoint() });
  const generator = renderGenerator({ paths, entrypoint: context.entrypoint() });
  const plan = await planWrites(paths, files);
  const generatorPlan = await planGenerator(paths, generator);
  if (plan.foreign.length > 0 || generatorPlan === 'foreign') {
    const shown = [
      ...plan.foreign.map((file) => path.posix.join(paths.unitDir, file)),
      ...(generatorPlan === 'foreign' ? [generator.path] : []),
    ];
    throw new EnvironmentError(
      `these unit files were not written by restic-systemd and would be replaced; nothing was changed:\n` +
        shown.map((file) => `  ${file}`).join('\n') +
        (`\nMove them aside (e.g. mv ${shown[0]} /root/), then run install again; restic-systemd import ` +
          `carries their settings over into a profile (man restic-systemd: import).`),
    );
  }
  return { files, generator, plan, generatorPlan };
}

async function installLocked(context: Context, profiles: readonly Profile[]): Promise<ChangeReport> {
  const { paths, runner, log } = context;
  const { files, generator, plan, generatorPlan } = await planChecked(context, profiles);

  const expectedDropIns = new Set(files.map((file) => file.relativePath));
  const staleDropIns: string[] = [];
  const wantedTimers: string[] = [];
  const unwantedTimers: string[] = [];
  for (const profile of profiles) {
    staleDropIns.push(...(await existingOwnDropIns(paths, profile.name)).filter((file) => !expectedDropIns.has(file)));
    const jobs = profileJobs(profile);
    for (const job of UNIT_JOBS)
      (jobs.includes(job) ? wantedTimers : unwantedTimers).push(instanceUnit(job, 'timer', profile.name));
  }

  await writeUnitFiles(paths, plan.toWrite);
  if (generatorPlan === 'write') writeGenerator(paths, generator);
  // systemctl is-enabled costs about 2 ms a unit: only timers whose enable link is there are asked
  // whether they must be disabled, and only those without one whether they must be enabled.
  const linked = await linkedFromTimersTarget(paths);
  const enabledStale = [
    ...(await enabledUnits(
      runner,
      paths,
      unwantedTimers.filter((unit) => linked.has(unit)),
    )),
  ];
  await disableUnits(runner, paths, enabledStale);
  await removeUnitFiles(paths, staleDropIns);
  const written = [
    ...plan.toWrite.map((file) => path.posix.join(paths.unitDir, file.relativePath)),
    ...(generatorPlan === 'write' ? [generator.path] : []),
  ];
  const removed = staleDropIns.map((file) => path.posix.join(paths.unitDir, file));
  let reloaded = false;
  if (!paths.offline && (written.length > 0 || removed.length > 0)) {
    await daemonReload(runner);
    reloaded = true;
  }
  const unlinked = wantedTimers.filter((unit) => !linked.has(unit));
  const alreadyEnabled = await enabledUnits(runner, paths, unlinked);
  const toEnable = unlinked.filter((unit) => !alreadyEnabled.has(unit));
  await enableUnits(runner, paths, toEnable);
  if (!paths.offline) {
    // What was written must be what systemd runs: a unit it refuses to load would never fire.
    const units = wantedTimers.flatMap((timer) => [timer, timer.replace(/\.timer$/, '.service')]);
    let refused = await unitsNotLoaded(runner, units);
    // What systemd holds may be older than the files (a drop-in fixed since): it reads them again once.
    if (refused.length > 0 && !reloaded) {
      await daemonReload(runner);
      refused = await unitsNotLoaded(runner, units);
    }
    if (refused.length > 0) {
      throw new CommandError(
        `systemd did not load these units as they were written:\n${refused.map((unit) => `  ${unit}`).join('\n')}\n` +
          (`See systemctl status <unit> and journalctl -b -u <unit>; fix what systemd names (the profile, or a ` +
            `drop-in of your own) and run install again.`),
        'systemctl show',
        undefined,
        '',
      );
    }
  }

  const report: ChangeReport = {
    changed: written.length + removed.length + toEnable.length + enabledStale.length > 0,
    written,
    removed,
    enabled: toEnable,
    disabled: enabledStale,
  };
  if (paths.offline) log.debug(`--root ${paths.root}: systemd was neither reloaded nor asked to start anything`);
  return report;
}
