/**
 * `notify <unit>`: what restic-notify@<unit>.service runs when a job's unit fails (OnFailure=):
 * finds the profile and job from the unit name and runs the profile's NOTIFY_COMMAND.
 */
import { maskSecrets } from '../log.js';
import type { Context } from '../context.js';
import { ExitCode, JobError, UsageError } from '../errors.js';
import { monitoredRun, runNotifyCommand } from '../reporting/notifications.js';
import { unfinishedRun } from '../reporting/run-record.js';
import { readStatus } from '../reporting/status-file.js';
import { loadProfile } from '../profile/load.js';
import { jobOfFamily } from '../profile/jobs.js';

export async function notifyCommand(context: Context, unit: string): Promise<void> {
  const match = /^([\w-]+)@(.+)\.service$/.exec(unit);
  const job = match ? jobOfFamily(match[1]!) : undefined;
  if (!match || !job)
    throw new UsageError(`${unit} is not a unit of restic-systemd: expected e.g. restic@myconf.service`);
  const profile = await loadProfile(match[2]!, context.paths);
  const written = readStatus(context.paths, profile.name, job);
  // `ended` (ExecStopPost=) has normally written a killed run's status already; if it could not, the record says it.
  const status =
    monitoredRun(unit, written, process.env) ?? unfinishedRun(context.paths, profile.name, job, written) ?? written;
  const notified = await runNotifyCommand(context, profile, unit, job, status);
  context.print(maskSecrets(notified.said));
  if (notified.exitCode !== 0)
    throw new JobError(`the notification for ${unit} failed (exit ${notified.exitCode})`, ExitCode.CommandFailed);
}
