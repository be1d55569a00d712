/**
 * systemctl through the runner. With --root every call gets --root=DIR and nothing is reloaded,
 * started or stopped (systemd's offline mode for image builds).
 */
import type { Paths } from '../paths.js';
import { expectSuccess, type Runner } from '../exec/runner.js';

function withRoot(paths: Paths, args: string[]): string[] {
  return paths.offline ? [`--root=${paths.root}`, ...args] : args;
}

/** Which of these units are enabled, in one systemctl call. */
export async function enabledUnits(runner: Runner, paths: Paths, units: readonly string[]): Promise<Set<string>> {
  if (units.length === 0) return new Set();
  const result = await runner.run('systemctl', withRoot(paths, ['is-enabled', ...units]));
  const states = result.stdout.split('\n').filter(Boolean);
  if (states.length !== units.length) {
    // systemctl prints nothing for a unit it cannot find, so the lines no longer match: ask one by one.
    if (units.length === 1) return new Set();
    const answers = await Promise.all(units.map((unit) => enabledUnits(runner, paths, [unit])));
    return new Set(answers.flatMap((set) => [...set]));
  }
  return new Set(units.filter((_, index) => ['enabled', 'enabled-runtime', 'alias'].includes(states[index]!)));
}

export async function daemonReload(runner: Runner): Promise<void> {
  expectSuccess(await runner.run('systemctl', ['daemon-reload']), 'systemctl daemon-reload');
}

/** Enable units; online they are also started (--now). */
export async function enableUnits(runner: Runner, paths: Paths, units: readonly string[]): Promise<void> {
  if (units.length === 0) return;
  const args = paths.offline ? ['enable', ...units] : ['enable', '--now', ...units];
  expectSuccess(await runner.run('systemctl', withRoot(paths, args)), `systemctl ${args.join(' ')}`);
}

/** Disable units; online they are also stopped (--now). */
export async function disableUnits(runner: Runner, paths: Paths, units: readonly string[]): Promise<void> {
  if (units.length === 0) return;
  const args = paths.offline ? ['disable', ...units] : ['disable', '--now', ...units];
  expectSuccess(await runner.run('systemctl', withRoot(paths, args)), `systemctl ${args.join(' ')}`);
}

/** Clear the failed state of those of these units that systemd lists as failed: a removed profile leaves no failed
 * unit behind. */
export async function resetFailedUnits(runner: Runner, units: readonly string[]): Promise<void> {
  if (units.length === 0) return;
  const listed = await runner.run('systemctl', [
    'list-units',
    '--state=failed',
    '--plain',
    '--no-legend',
    '--full',
    ...units,
  ]);
  const failed = listed.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0]!)
    .filter((unit) => units.includes(unit));
  // reset-failed exits 1 for a unit systemd has not loaded, so only the listed ones are named.
  if (failed.length > 0)
    expectSuccess(
      await runner.run('systemctl', ['reset-failed', ...failed]),
      `systemctl reset-failed ${failed.join(' ')}`,
    );
}

export interface TimerTimes {
  next?: string;
  last?: string;
  /** When the timer last became active (started). */
  activeSince?: string;
}

/** When each timer fires next and fired last, from a running systemd (times in UTC, ISO). */
export async function timerTimes(runner: Runner, units: readonly string[]): Promise<Map<string, TimerTimes>> {
  const times = new Map<string, TimerTimes>();
  if (units.length === 0) return times;
  const result = await runner.run(
    'systemctl',
    [
      'show',
      '-p',
      'Id',
      '-p',
      'NextElapseUSecRealtime',
      '-p',
      'LastTriggerUSec',
      '-p',
      'ActiveEnterTimestamp',
      '--',
      ...units,
    ],
    { env: { TZ: 'UTC' } },
  );
  const iso = (text: string | undefined) => {
    const match = /(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC/.exec(text ?? '');
    return match ? `${match[1]}T${match[2]}Z` : undefined;
  };
  for (const block of result.stdout.split('\n\n')) {
    const fields = Object.fromEntries(
      block
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    if (fields.Id)
      times.set(fields.Id, {
        next: iso(fields.NextElapseUSecRealtime),
        last: iso(fields.LastTriggerUSec),
        activeSince: iso(fields.ActiveEnterTimestamp),
      });
  }
  return times;
}

/** The units systemd could not load as they are (a setting it refused), each with systemd's reason. */
export async function unitsNotLoaded(runner: Runner, units: readonly string[]): Promise<string[]> {
  if (units.length === 0) return [];
  const result = await runner.run('systemctl', [
    'show',
    '-p',
    'Id',
    '-p',
    'LoadState',
    '-p',
    'LoadError',
    '--',
    ...units,
  ]);
  const refused: string[] = [];
  for (const block of result.stdout.split('\n\n')) {
    const fields = Object.fromEntries(
      block
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    if (fields.Id && fields.LoadState && fields.LoadState !== 'loaded')
      refused.push(`${fields.Id}: ${fields.LoadState}${fields.LoadError ? ` (${fields.LoadError})` : ''}`);
  }
  return refused;
}

/** The major version of this host's systemd (252 on Debian 12, 257 on Debian 13). */
export async function systemdVersion(runner: Runner): Promise<number> {
  const result = await runner.run('systemctl', ['--version']);
  const major = /^systemd (\d+)/.exec(result.stdout)?.[1];
  if (result.exitCode !== 0 || !major)
    throw new Error(`systemctl --version: ${result.stderr.trim() || result.stdout.trim()}`);
  return Number(major);
}
