/**
 * restic as a job calls it: the release found once per run, the profile's environment, every call
 * bounded by the profile's network timeout, and every failure turned into an operator's message
 * and the exit code of its cause.
 */
import type { Context } from '../context.js';
import { EnvironmentError, ExitCode, JobError, type ExitCode as Code } from '../errors.js';
import {
  OLDEST_SUPPORTED,
  atLeast,
  classifyResticFailure,
  readableResticOutput,
  resticEnvironment,
  resticVersion,
  type ResticProblem,
  type ResticVersion,
} from '../tools/restic.js';
import { RetryWatchdog, type RetryExpiry } from '../tools/restic-retries.js';
import { askSsh, sftpReasonLost } from '../tools/sftp-probe.js';
import { baseEnvironment, type PipelineStage, type RunOptions, type RunResult } from '../exec/runner.js';
import { heldRepositoryLock } from '../locks/repository-lock.js';
import type { Profile } from '../profile/model.js';
import { timespanSeconds } from '../formats/timespan.js';

/** What every restic call of one run shares. */
export interface Restic {
  context: Context;
  profile: Profile;
  env: Record<string, string>;
  version: ResticVersion;
  /** Before every call's own arguments: the profile's extended options (-o key=value). */
  globalArgs: string[];
}

const versions = new WeakMap<Context['runner'], Promise<ResticVersion>>();

/**
 * Ask restic for its release now, while the run does other work (profile, lock, credentials): the
 * answer is waited for by the first restic call. One `restic version` per run and runner.
 */
export function askResticVersion(context: Context): Promise<ResticVersion> {
  let version = versions.get(context.runner);
  if (!version) {
    version = resticVersion(context.runner);
    // Not waited for yet: its failure is reported by the call that waits for it.
    version.catch(() => undefined);
    versions.set(context.runner, version);
  }
  return version;
}

/** The restic of this host, refused when it is older than the oldest supported release. */
export async function checkedResticVersion(context: Context): Promise<ResticVersion> {
  const version = await askResticVersion(context);
  if (!atLeast(version, OLDEST_SUPPORTED.major, OLDEST_SUPPORTED.minor, OLDEST_SUPPORTED.patch)) {
    throw new EnvironmentError(
      `restic ${version.text} is not supported: restic-systemd needs restic ${OLDEST_SUPPORTED.text} or newer ` +
        `(Debian 12's). ` +
        "Install Debian's restic (apt-get install restic), or set RESTIC_BIN to a newer one.",
    );
  }
  return version;
}

/** The variables restic runs with: the profile's (which it needs, secrets and all), a home and a temporary folder. */
function resticProcessEnvironment(context: Context, profile: Profile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['HOME', 'TMPDIR']) if (process.env[key]) env[key] = process.env[key]!;
  return { ...env, ...resticEnvironment(profile, context.paths) };
}

/**
 * restic reads RESTIC_CACERT and RESTIC_TLS_CLIENT_CERT from 0.16 on; older releases (Debian 12's
 * 0.14) only take the flags and would ignore the variables silently. Paths, not secrets.
 */
function tlsArgs(env: Record<string, string>, version: ResticVersion): string[] {
  if (atLeast(version, 0, 16, 0)) return [];
  return [
    ...(env.RESTIC_CACERT ? ['--cacert', env.RESTIC_CACERT] : []),
    ...(env.RESTIC_TLS_CLIENT_CERT ? ['--tls-client-cert', env.RESTIC_TLS_CLIENT_CERT] : []),
  ];
}

export async function openRestic(context: Context, profile: Profile): Promise<Restic> {
  const version = await checkedResticVersion(context);
  const env = resticProcessEnvironment(context, profile);
  const globalArgs = [
    ...tlsArgs(env, version),
    ...(profile.values.BACKUP_RESTIC_OPTIONS ?? []).flatMap((option) => ['-o', option]),
  ];
  return { context, profile, env, version, globalArgs };
}

/** The profile's bound on a repository that cannot be reached, in milliseconds. */
function networkTimeoutMs(profile: Profile): number {
  return timespanSeconds(profile.values.BACKUP_NETWORK_TIMEOUT)! * 1000;
}

// Errors restic 0.17+ retries for 15 minutes although waiting cannot cure them: stopped at once.
const HOPELESS: ReadonlySet<ResticProblem> = new Set(['host-key', 'access-denied']);

function hopelessError(restic: Restic, error: string): boolean {
  return HOPELESS.has(classifyResticFailure(1, error, restic.profile.name).problem);
}

/**
 * A watchdog for one restic process: `stop` is called when a request has been failing for longer
 * than the profile's bound, or at its first retry when the error cannot go away by waiting.
 */
export function retryWatchdog(restic: Restic, stop: () => void): RetryWatchdog {
  return new RetryWatchdog(networkTimeoutMs(restic.profile), stop, Date.now, (error) =>
    hopelessError(restic, error),
  ).start();
}

/** The failure of a restic call that the watchdog stopped. */
export function unreachableFailure(restic: Restic, what: string, expiry: RetryExpiry): JobError {
  const { exitCode, meaning } = classifyResticFailure(1, expiry.lastError, restic.profile.name);
  if (expiry.hopeless)
    return new JobError(
      `${what} failed: ${meaning}. restic would have retried ${expiry.request} for minutes and was stopped; ` +
        `its error: ${expiry.lastError}`,
      exitCode ?? ExitCode.ResticFailed,
    );
  const code = exitCode === ExitCode.HostUnknown ? ExitCode.HostUnknown : ExitCode.RepositoryUnreachable;
  const cause =
    code === ExitCode.HostUnknown
      ? meaning
      : 'the repository cannot be reached: check the network and the repository server';
  return new JobError(
    `${what} failed: ${cause}. restic kept retrying ${expiry.request} for ${expiry.seconds} s, more than ` +
      `BACKUP_NETWORK_TIMEOUT=${restic.profile.values.BACKUP_NETWORK_TIMEOUT}, and was stopped; the last error: ` +
      `${expiry.lastError}`,
    code,
  );
}

/**
 * What restic keeps open of this run: the repository lock while the job holds it, so that a restic
 * outliving a killed job still holds it (locks/repository-lock.ts).
 */
export function keptOpen(restic: Restic): { keepOpen?: number } {
  const lock = heldRepositoryLock(restic.context);
  return lock === undefined ? {} : { keepOpen: lock };
}

/** restic as a stage of a pipeline: the profile's options and environment, and the lock it holds. */
export function resticStage(restic: Restic, args: string[], extra: Partial<PipelineStage> = {}): PipelineStage {
  return {
    tool: 'restic',
    args: [...restic.globalArgs, ...args],
    env: { ...baseEnvironment(), ...restic.env },
    ...keptOpen(restic),
    ...extra,
  };
}

/** Run restic; on a non-zero exit (other than those in `accept`) throw a JobError saying what it means. */
export async function callRestic(
  restic: Restic,
  what: string,
  args: string[],
  options: Omit<RunOptions, 'env'> = {},
  accept: number[] = [],
): Promise<RunResult> {
  const cancel = new AbortController();
  const watchdog = retryWatchdog(restic, () => cancel.abort());
  let result: RunResult;
  try {
    result = await restic.context.runner.run('restic', [...restic.globalArgs, ...args], {
      ...options,
      ...keptOpen(restic),
      env: restic.env,
      cancel: cancel.signal,
      // SIGINT: restic removes its lock and exits.
      killSignal: 'SIGINT',
      onStderrLine: (line) => {
        watchdog.onStderrLine(line);
        options.onStderrLine?.(line);
      },
    });
  } finally {
    watchdog.stop();
  }
  if (watchdog.expired) throw unreachableFailure(restic, what, watchdog.expired);
  if (result.exitCode !== 0) result = await withSshReason(restic, result);
  return interpret(restic, result, what, accept);
}

/** A failed restic result, with ssh's own reason added when restic lost it (tools/sftp-probe.ts). */
export async function withSshReason(restic: Restic, result: RunResult): Promise<RunResult> {
  const repository = restic.env.RESTIC_REPOSITORY;
  if (!sftpReasonLost(repository, result.stderr)) return result;
  const env: Record<string, string> = {};
  for (const key of ['HOME', 'SSH_AUTH_SOCK']) if (process.env[key]) env[key] = process.env[key]!;
  const reason = await askSsh(
    restic.context.runner,
    repository,
    restic.profile.values.BACKUP_RESTIC_OPTIONS ?? [],
    env,
  );
  if (reason)
    restic.context.log.info(
      `restic did not pass on why ssh ended; asked again, ${reason.split('\n').slice(-2).join('; ')}`,
    );
  return reason ? { ...result, stderr: `${reason}\n${result.stderr}` } : result;
}

/**
 * callRestic, and when the repository turns out to be locked, remove the stale locks (`restic
 * unlock` removes only those whose process is gone) and try once more. Unlike an unlock before
 * every call, this costs nothing when there is no stale lock: each restic process spends about
 * 0.7 s deriving the repository key.
 */
export async function callResticUnlockingStale(
  restic: Restic,
  what: string,
  args: string[],
  options: Omit<RunOptions, 'env'> = {},
  accept: number[] = [],
): Promise<RunResult> {
  try {
    return await callRestic(restic, what, args, options, accept);
  } catch (error) {
    if (!(error instanceof JobError) || error.exitCode !== ExitCode.RepositoryLocked) throw error;
  }
  restic.context.log.info(`${what}: the repository is locked; removing stale locks (restic unlock) and trying again`);
  await removeStaleLocks(restic);
  return callRestic(restic, what, args, options, accept);
}

/** `restic unlock`: removes only the locks whose process is gone, never a live one. */
export function removeStaleLocks(restic: Restic): Promise<RunResult> {
  return callRestic(restic, 'removing stale locks (restic unlock)', ['unlock']);
}

/** The JobError of a failed restic process: the code of its cause, or `otherwise`. */
export function resticFailure(
  restic: Restic,
  result: RunResult,
  what: string,
  otherwise: Code = ExitCode.CommandFailed,
): JobError {
  const { meaning, exitCode } = classifyResticFailure(result.exitCode, result.stderr, restic.profile.name);
  const output = readableResticOutput(result.stderr).slice(-5).join('\n');
  return new JobError(`${what} failed: ${meaning}${output ? `\nrestic said:\n${output}` : ''}`, exitCode ?? otherwise);
}

function interpret(restic: Restic, result: RunResult, what: string, accept: number[]): RunResult {
  if (result.exitCode === 0 || accept.includes(result.exitCode)) return result;
  throw resticFailure(restic, result, what);
}
