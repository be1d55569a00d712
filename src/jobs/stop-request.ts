/**
 * A stop signal (systemctl stop, a timeout, Ctrl-C) that reached this run. A job whose last
 * program finished despite it skips what comes after (the retention): a stopped run is reported
 * as interrupted, and an interrupted run never forgets snapshots (docs/exit-codes.md, 130).
 */
import { ExitCode, JobError } from '../errors.js';

let received: NodeJS.Signals | undefined;

export function recordStopSignal(signal: NodeJS.Signals): void {
  received ??= signal;
}

/** The first stop signal this run received, if any. */
export function stopSignal(): NodeJS.Signals | undefined {
  return received;
}

/** Before a step that must not run once the run was asked to stop: fail as interrupted instead. */
export function refuseAfterStop(done: string, step: string): void {
  if (received)
    throw new JobError(`${done}; ${step} was not run, since ${received} asked the run to stop`, ExitCode.Interrupted);
}
