/** One restic call of a job, with its failure turned into an operator's message. */
import type { Context } from '../context.js';
import { ExitCode, JobError } from '../errors.js';
import { classifyResticFailure } from '../exec/restic.js';
import type { RunOptions, RunResult } from '../exec/runner.js';

/** Run restic; on a non-zero exit (other than those in `accept`) throw a JobError saying what it means. */
export async function callRestic(context: Context, profile: string, what: string, args: string[], options: RunOptions, accept: number[] = []): Promise<RunResult> {
  const result = await context.runner.run('restic', args, options);
  if (result.exitCode === 0 || accept.includes(result.exitCode)) return result;
  const { meaning } = classifyResticFailure(result.exitCode, result.stderr, profile);
  const output = result.stderr.trim().split('\n').slice(-5).join('\n');
  throw new JobError(`${what} failed: ${meaning}${output ? `\nrestic said:\n${output}` : ''}`, ExitCode.CommandFailed);
}
