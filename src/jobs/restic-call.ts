/** One restic call of a job, with its failure turned into an operator's message. */
import type { Context } from '../context.js';
import { ExitCode, JobError } from '../errors.js';
import { classifyResticFailure } from '../exec/restic.js';
import type { RunOptions, RunResult } from '../exec/runner.js';

/** Run restic; on a non-zero exit (other than those in `accept`) throw a JobError saying what it means. */
export async function callRestic(context: Context, profile: string, what: string, args: string[], options: RunOptions, accept: number[] = []): Promise<RunResult> {
  return interpret(await context.runner.run('restic', args, options), profile, what, accept);
}

/**
 * callRestic, and when the repository turns out to be locked, remove the stale locks (`restic
 * unlock` removes only those whose process is gone) and try once more. Unlike an unlock before
 * every call, this costs nothing when there is no stale lock: each restic process spends about
 * 0.7 s deriving the repository key.
 */
export async function callResticUnlockingStale(context: Context, profile: string, what: string, args: string[], options: RunOptions, accept: number[] = []): Promise<RunResult> {
  const result = await context.runner.run('restic', args, options);
  if (result.exitCode === 0 || accept.includes(result.exitCode) || classifyResticFailure(result.exitCode, result.stderr, profile).problem !== 'locked') {
    return interpret(result, profile, what, accept);
  }
  context.log.info(`${what}: the repository is locked; removing stale locks (restic unlock) and trying again`);
  await removeStaleLocks(context, profile, options.env);
  return callRestic(context, profile, what, args, options, accept);
}

/** `restic unlock`: removes only the locks whose process is gone, never a live one. */
export function removeStaleLocks(context: Context, profile: string, env: RunOptions['env']): Promise<RunResult> {
  return callRestic(context, profile, 'removing stale locks (restic unlock)', ['unlock'], { env });
}

function interpret(result: RunResult, profile: string, what: string, accept: number[]): RunResult {
  if (result.exitCode === 0 || accept.includes(result.exitCode)) return result;
  const { meaning } = classifyResticFailure(result.exitCode, result.stderr, profile);
  const output = result.stderr.trim().split('\n').slice(-5).join('\n');
  throw new JobError(`${what} failed: ${meaning}${output ? `\nrestic said:\n${output}` : ''}`, ExitCode.CommandFailed);
}
