/**
 * Telling people: Healthchecks-style pings around every run (start, success, fail) and the
 * profile's NOTIFY_COMMAND when a job's unit fails. A notification that fails is logged; it never
 * changes the outcome of a backup.
 */
import { displayCommand } from '../exec/runner.js';
import type { Context } from '../context.js';
import { maskSecrets } from '../log.js';
import { ExitCode } from '../errors.js';
import type { Profile } from '../profile/model.js';
import { howItEnded } from './run-record.js';
import type { JobStatus } from './status-file.js';

const PING_TIMEOUT_MS = 10_000;

/** Ping <url><suffix>; a failure is a warning only. */
export async function ping(context: Context, url: string, suffix: '/start' | '' | '/fail', body = ''): Promise<void> {
  try {
    const response = await fetch(`${url}${suffix}`, {
      method: 'POST',
      body: maskSecrets(body),
      signal: AbortSignal.timeout(PING_TIMEOUT_MS),
    });
    if (!response.ok) context.log.warn(`the monitoring ping ${suffix || '(success)'} was answered ${response.status}`);
  } catch (error) {
    context.log.warn(
      `the monitoring ping ${suffix || '(success)'} failed: ${(error as Error).message}; the job's result is ` +
        `not affected`,
    );
  }
}

/**
 * The failed run a notification is about, when systemd names it: OnFailure= units get MONITOR_INVOCATION_ID and
 * how the run ended (systemd 250 and newer). By the time the notification runs, the next run of a frequent timer
 * may have written its status over the failed one's: the failed run is then its lastFailure, or, replaced by a
 * later failure, what systemd says of it. Undefined by hand (no MONITOR_*) and when no status was written.
 */
export function monitoredRun(
  unit: string,
  written: JobStatus | undefined,
  env: NodeJS.ProcessEnv,
): JobStatus | undefined {
  const invocation = env.MONITOR_INVOCATION_ID;
  if (!invocation || !written) return undefined;
  if (written.invocation === invocation) return written;
  if (written.lastFailure?.invocation === invocation) return { ...written, ...written.lastFailure };
  const ended = howItEnded({
    SERVICE_RESULT: env.MONITOR_SERVICE_RESULT,
    EXIT_CODE: env.MONITOR_EXIT_CODE,
    EXIT_STATUS: env.MONITOR_EXIT_STATUS,
  });
  const status = Number(env.MONITOR_EXIT_STATUS);
  return {
    ...written,
    result: 'failure',
    exitCode:
      env.MONITOR_EXIT_CODE === 'exited' && Number.isInteger(status) ? (status as ExitCode) : ExitCode.CommandFailed,
    message:
      `${unit} failed (${ended}); later runs have written their status since. ` +
      `Its journal: journalctl -u ${unit} _SYSTEMD_INVOCATION_ID=${invocation}`,
    invocation,
  };
}

/** Run NOTIFY_COMMAND for a failed unit; returns its exit code (0 when there is none). */
export async function runNotifyCommand(
  context: Context,
  profile: Profile,
  unit: string,
  job: string,
  status: JobStatus | undefined,
): Promise<{ exitCode: number; said: string }> {
  const command = profile.values.NOTIFY_COMMAND;
  // What the status file says of the last run: a unit is called failed only when its run did not succeed.
  const lastRun = status
    ? `the last run of ${unit}: ${status.result} (exit ${status.exitCode})`
    : `${unit} failed before writing its status`;
  if (!command || command.length === 0)
    return { exitCode: 0, said: `${lastRun}; NOTIFY_COMMAND is not set in ${profile.file}, so nobody else is told` };
  const [program, ...args] = command;
  const result = await context.runner.run({ program: program! }, args, {
    env: {
      RESTIC_SYSTEMD_UNIT: unit,
      RESTIC_SYSTEMD_PROFILE: profile.name,
      RESTIC_SYSTEMD_JOB: job,
      RESTIC_SYSTEMD_RESULT: status?.result ?? 'unknown',
      RESTIC_SYSTEMD_EXIT_CODE: String(status?.exitCode ?? ''),
      RESTIC_SYSTEMD_MESSAGE: maskSecrets(status?.message ?? `${unit} failed before writing its status`),
    },
  });
  if (result.exitCode !== 0)
    context.log.error(`NOTIFY_COMMAND failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  const output = result.stdout.trim();
  return {
    exitCode: result.exitCode,
    said:
      `notified: ${displayCommand(program!, args)} exited ${result.exitCode} (${lastRun})` +
      (output
        ? `\n${output
            .split('\n')
            .map((line) => `  ${line}`)
            .join('\n')}`
        : ''),
  };
}
