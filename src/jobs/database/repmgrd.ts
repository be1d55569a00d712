/**
 * Stopping and starting the local repmgrd around a dump, so that the paused node stays out of
 * failover elections: `systemctl stop/start PG_REPMGRD_SERVICE`, or the profile's own commands.
 */
import { setTimeout } from 'node:timers/promises';
import type { Context } from '../../context.js';
import { ExitCode, JobError } from '../../errors.js';
import type { Profile } from '../../profile/model.js';
import type { RunResult } from '../../exec/runner.js';

/** PG_REPMGRD_STOP/START_COMMAND: a program of the operator's, which gets no secret of the profile. */
async function runWords(context: Context, words: readonly string[]): Promise<RunResult> {
  const [program, ...args] = words;
  return context.runner.run({ program: program! }, args, {});
}

function failed(what: string, result: RunResult): JobError {
  return new JobError(
    `${what} failed (exit ${result.exitCode}): ${result.command}\n${result.stderr.trim()}`,
    ExitCode.CommandFailed,
  );
}

/** Stop the local repmgrd if it runs; true when this call stopped it (and so must start it again). */
export async function stopRepmgrd(context: Context, profile: Profile): Promise<boolean> {
  const { PG_REPMGRD_STOP_COMMAND: command, PG_REPMGRD_SERVICE: service } = profile.values;
  if (command && command.length > 0) {
    const result = await runWords(context, command);
    if (result.exitCode !== 0) throw failed('stopping repmgrd (PG_REPMGRD_STOP_COMMAND)', result);
    return true;
  }
  if (!service) return false;
  const active = await context.runner.run('systemctl', ['is-active', '--', service], {});
  if (active.exitCode !== 0) {
    if (active.stdout.trim() === 'failed')
      context.log.warn(
        `${service} has failed: automatic failover is off on this standby until it runs again ` +
          `(systemctl status ${service}); it is left alone`,
      );
    else context.log.info(`${service} is not running: it is left alone`);
    return false;
  }
  const stop = await context.runner.run('systemctl', ['stop', '--', service], {});
  if (stop.exitCode !== 0) throw failed(`systemctl stop ${service}`, stop);
  return true;
}

/**
 * How long a started repmgrd must stay active to count as started: it exits within its connect_timeout
 * when its node or its upstream does not answer (a standby restarting, a primary in a switchover), while
 * `systemctl start` has already said yes.
 */
const STAYS_ACTIVE_MS = 3000;
const POLL_MS = 250;

/**
 * Start repmgrd again: undefined once it runs, otherwise the state its unit fell to at once (with
 * PG_REPMGRD_SERVICE; a start command of the operator's is taken at its word).
 */
export async function startRepmgrd(context: Context, profile: Profile): Promise<string | undefined> {
  const { PG_REPMGRD_START_COMMAND: command, PG_REPMGRD_SERVICE: service } = profile.values;
  if (command && command.length > 0) {
    const result = await runWords(context, command);
    if (result.exitCode !== 0) throw failed('starting repmgrd again', result);
    return undefined;
  }
  const result = await context.runner.run('systemctl', ['start', '--', service], {});
  if (result.exitCode !== 0) throw failed('starting repmgrd again', result);
  for (let waited = 0; waited < STAYS_ACTIVE_MS; waited += POLL_MS) {
    await setTimeout(POLL_MS);
    const state = (await context.runner.run('systemctl', ['is-active', '--', service], {})).stdout.trim();
    if (state !== 'active') return state || 'unknown';
  }
  return undefined;
}
