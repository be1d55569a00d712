/**
 * `internal-pipeline`: not for operators. restic 0.17 and newer run the database dump themselves
 * (backup --stdin-from-command) and hand the command their whole environment, repository
 * password included. They run this instead: it starts the dump's stages (pg_dumpall and its
 * compressor) connected by the kernel, the last one writing straight into restic's pipe, each
 * with only the variables the job named for it, and exits non-zero when any stage failed (restic
 * then saves no snapshot).
 */
import type { Context } from '../context.js';
import type { PipelineStage } from '../exec/runner.js';
import { HELD_LOCK_VARIABLE, STAGES_VARIABLE, closeHeldLock, readStageSpec } from '../exec/stage-spec.js';

/** Returns the exit code: 0 when every stage exited 0, else the first failed stage's (1 for a signal). */
export async function internalPipelineCommand(context: Context): Promise<number> {
  const spec = readStageSpec(process.env[STAGES_VARIABLE]);
  closeHeldLock(process.env[HELD_LOCK_VARIABLE]);
  const stages: PipelineStage[] = spec.map((stage) => {
    const env: Record<string, string> = { ...stage.env };
    for (const key of stage.keep) if (process.env[key] !== undefined) env[key] = process.env[key]!;
    return { tool: { program: stage.program }, args: stage.args, env };
  });
  const forward = (signal: NodeJS.Signals) => context.runner.signalAll(signal);
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  signals.forEach((signal) => process.on(signal, forward));
  try {
    // The last stage writes into this process's stdout: restic's pipe, not this process.
    const results = await context.runner.pipeline(stages, { stdout: 1 });
    for (const result of results) if (result.stderr.trim()) process.stderr.write(`${result.stderr.trimEnd()}\n`);
    const failed = results.find((result) => result.exitCode !== 0 || result.signal);
    if (!failed) return 0;
    process.stderr.write(
      `restic-systemd: ${failed.command} failed ` +
        `(${failed.signal ? `signal ${failed.signal}` : `exit ${failed.exitCode}`})\n`,
    );
    return failed.signal ? 1 : failed.exitCode || 1;
  } finally {
    signals.forEach((signal) => process.off(signal, forward));
  }
}
