/**
 * Patroni through patronictl, for a paused replica (PG_HA_MANAGER=patroni): is the cluster in
 * maintenance mode, switch it on and off. patronictl reads PG_PATRONI_CONFIG, as PG_OS_USER when the
 * profile names one (the account that owns Patroni reads its configuration), with no secret of the
 * profile in its environment.
 */
import { ExitCode, JobError } from '../errors.js';
import { baseEnvironment, type RunResult, type Runner } from '../exec/runner.js';
import type { Profile } from '../profile/model.js';
import { asDatabaseUser } from './postgres.js';

/** patronictl waits without end for a DCS it cannot reach: each call is stopped after this long. */
export const PATRONICTL_TIMEOUT_S = 60;

function patronictl(runner: Runner, profile: Profile, args: readonly string[]): Promise<RunResult> {
  const call = asDatabaseUser(profile, 'patronictl', ['-c', profile.values.PG_PATRONI_CONFIG, ...args]);
  return runner.run(call.tool, call.args, {
    env: baseEnvironment(),
    cancel: AbortSignal.timeout(PATRONICTL_TIMEOUT_S * 1000),
  });
}

/** What patronictl said, in short: its error lines, never its stdout (a configuration may be printed there). */
function failed(what: string, result: RunResult): JobError {
  const said = result.signal
    ? `no answer within ${PATRONICTL_TIMEOUT_S} s (is the DCS, etcd, reachable?)`
    : result.stderr.trim().split('\n').slice(-3).join('\n') || 'no message';
  return new JobError(`${what} failed (exit ${result.exitCode}): ${result.command}\n${said}`, ExitCode.CommandFailed);
}

/** Whether the cluster is in maintenance mode: its dynamic configuration says `pause: true`. */
export async function inMaintenanceMode(runner: Runner, profile: Profile): Promise<boolean> {
  const result = await patronictl(runner, profile, ['show-config']);
  if (result.exitCode !== 0) throw failed("reading Patroni's configuration (patronictl show-config)", result);
  return /^pause:\s*true\s*$/m.test(result.stdout);
}

/**
 * Maintenance mode on, waiting until every member has seen it: Patroni then leaves a paused replay
 * paused. False when someone else switched it on first (patronictl: "Cluster is already paused").
 */
export async function enterMaintenanceMode(runner: Runner, profile: Profile): Promise<boolean> {
  const result = await patronictl(runner, profile, ['pause', '--wait']);
  if (result.exitCode !== 0 && /already paused/i.test(result.stderr)) return false;
  if (result.exitCode !== 0) throw failed("switching on Patroni's maintenance mode (patronictl pause --wait)", result);
  return true;
}

/** Maintenance mode off; already off counts as done (patronictl: "Cluster is not paused"). */
export async function leaveMaintenanceMode(runner: Runner, profile: Profile): Promise<void> {
  const result = await patronictl(runner, profile, ['resume', '--wait']);
  if (result.exitCode !== 0 && /not paused/i.test(result.stderr)) return;
  if (result.exitCode !== 0)
    throw failed("switching off Patroni's maintenance mode (patronictl resume --wait)", result);
}
