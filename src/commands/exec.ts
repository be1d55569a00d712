/**
 * `exec <name> -- <command…>`: run a command with the profile's environment, as the guide's
 * `while read … export` loop did; e.g. `restic-systemd exec myconf -- restic snapshots`.
 */
import os from 'node:os';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { resticEnvironment } from '../tools/restic.js';
import { loadProfile } from '../profile/load.js';
import { withCredentials } from '../credentials/unlock.js';

/** Returns the command's exit code (128 + the signal number if a signal ended it). */
export async function execCommand(context: Context, name: string, command: readonly string[]): Promise<number> {
  const [program, ...args] = command;
  if (!program)
    throw new UsageError(`name the command to run after --, e.g. restic-systemd exec ${name} -- restic snapshots`);
  const profile = await loadProfile(name, context.paths);
  // The command shares the terminal, so Ctrl-C reaches it directly: wait for it instead of dying.
  const forward = (signal: NodeJS.Signals) => signal !== 'SIGINT' && context.runner.signalAll(signal);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  signals.forEach((signal) => process.on(signal, forward));
  try {
    return await withCredentials(context, profile, async (unlocked) => {
      const result = await context.runner.run({ program }, args, {
        env: resticEnvironment(unlocked, context.paths),
        inheritEnvironment: true,
        attached: true,
      });
      return result.signal ? 128 + (os.constants.signals[result.signal as NodeJS.Signals] ?? 0) : result.exitCode;
    });
  } finally {
    signals.forEach((signal) => process.off(signal, forward));
  }
}
