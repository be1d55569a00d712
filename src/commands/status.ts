/**
 * `status [name…]`: per profile and job, the last run (result, exit code, snapshot and its age,
 * bytes added) from the status files and the timers' next and last run from systemd. Exits 8
 * when any last run did not succeed or is older than twice its schedule, so a monitor can run it.
 */
import { removeCredentialLeftovers } from '../credentials/unlock.js';
import type { Context } from '../context.js';
import fs from 'node:fs';
import { EnvironmentError, ExitCode, JobError, ProfileError, formatIssue } from '../errors.js';
import { timerTimes } from '../tools/systemctl.js';
import { jobHealth } from './job-health.js';
import { maskSecrets } from '../log.js';
import { loadProfile, profilesInConfigFolder, type Profile } from '../profile/load.js';
import { shortId } from '../tools/restic.js';
import { installedProfiles } from '../units/install.js';
import { instanceUnit } from '../units/names.js';
import { profileJobs } from '../profile/jobs.js';
import { formatBytes } from '../reporting/format.js';
import { age, formatTable } from '../reporting/table.js';
import { enabledForeignResticUnits } from '../import/foreign-units.js';

export interface JobReport {
  profile: string;
  job: string;
  repository: string;
  schedule: string | null;
  healthy: boolean;
  problem: string | null;
  lastRun: string | null;
  result: string | null;
  exitCode: number | null;
  /** The full ID of the last snapshot the job saved. */
  snapshot: string | null;
  /** Its short form, as restic's tables print it. */
  snapshotShort: string | null;
  snapshotTime: string | null;
  bytesAdded: number | null;
  /** The restore drill's last measured recovery time: how long restoring every database took. */
  recoverySeconds: number | null;
  nextRun: string | null;
  lastTrigger: string | null;
  /** The first line of the last run's message (why it failed, or what it did). */
  message: string | null;
}

/** The profiles to report on: those named, else every profile file and every installed profile. */
export function profileNames(context: Context, names: readonly string[], installed: readonly string[]): string[] {
  if (names.length > 0) return [...names];
  return [...new Set([...profilesInConfigFolder(context.paths, context.log), ...installed])].sort();
}

/**
 * A monitor's typo must not look healthy: --root must be a folder (exit 4), and with no names
 * there must be something to check (exit 3).
 */
export function assertSomethingToCheck(context: Context, names: readonly string[], found: readonly string[]): void {
  const { root, configDir } = context.paths;
  let folder: boolean;
  try {
    folder = fs.statSync(root).isDirectory();
  } catch {
    folder = false;
  }
  if (!folder) throw new EnvironmentError(`--root ${root} is not a folder: give the root folder of the image`);
  if (names.length === 0 && found.length === 0)
    throw new JobError(
      `no profiles in ${configDir} and none installed: nothing to check (restic-systemd setup or import makes one)`,
      ExitCode.InvalidProfile,
    );
}

/** Load a profile for reporting: an invalid one is reported, not thrown. */
export async function loadForReport(context: Context, name: string): Promise<Profile | string> {
  try {
    return await loadProfile(name, context.paths);
  } catch (error) {
    if (error instanceof ProfileError) return `invalid profile: ${error.issues.map(formatIssue).join('; ')}`;
    throw error;
  }
}

const NO_RUN = {
  lastRun: null,
  result: null,
  exitCode: null,
  snapshot: null,
  snapshotShort: null,
  snapshotTime: null,
  bytesAdded: null,
  recoverySeconds: null,
  nextRun: null,
  lastTrigger: null,
  message: null,
};

export async function jobReports(context: Context, names: readonly string[]): Promise<JobReport[]> {
  const reports: JobReport[] = [];
  const installed = new Set(await installedProfiles(context.paths));
  const selected = profileNames(context, names, [...installed]);
  assertSomethingToCheck(context, names, selected);
  for (const name of selected) {
    const profile = await loadForReport(context, name);
    if (typeof profile === 'string') {
      reports.push({
        profile: name,
        job: '-',
        repository: '',
        schedule: null,
        healthy: false,
        problem: profile,
        ...NO_RUN,
      });
      continue;
    }
    // Not asked for by name and not installed (never, or on purpose): said, and no fault.
    if (names.length === 0 && !installed.has(name)) {
      reports.push({
        profile: name,
        job: '-',
        repository: maskSecrets(profile.env.RESTIC_REPOSITORY ?? `(from ${profile.env.RESTIC_REPOSITORY_FILE})`),
        schedule: null,
        healthy: true,
        problem: `not installed (restic-systemd install ${name} schedules it)`,
        ...NO_RUN,
      });
      continue;
    }
    const timers =
      context.paths.offline || !(await context.systemdBooted())
        ? new Map()
        : await timerTimes(
            context.runner,
            profileJobs(profile).map((job) => instanceUnit(job, 'timer', name)),
          );
    const health = await jobHealth(context, profile, timers);
    for (const entry of health) {
      const timer = timers.get(instanceUnit(entry.job, 'timer', name));
      const status = entry.status;
      reports.push({
        profile: name,
        job: entry.job,
        repository: maskSecrets(profile.env.RESTIC_REPOSITORY ?? `(from ${profile.env.RESTIC_REPOSITORY_FILE})`),
        schedule: entry.schedule ?? null,
        healthy: entry.healthy,
        problem: entry.problem ?? null,
        lastRun: status?.end ?? null,
        result: status?.result ?? null,
        exitCode: status?.exitCode ?? null,
        snapshot: status?.lastSnapshot?.id ?? null,
        snapshotShort: status?.lastSnapshot ? shortId(status.lastSnapshot.id) : null,
        snapshotTime: status?.lastSnapshot?.time ?? null,
        bytesAdded: status?.bytesAdded ?? null,
        recoverySeconds: status?.recoverySeconds ?? null,
        nextRun: timer?.next ?? null,
        lastTrigger: timer?.last ?? null,
        message: status?.message ? maskSecrets(status.message.split('\n')[0]!) : null,
      });
    }
  }
  return reports;
}

export async function statusCommand(context: Context, names: readonly string[]): Promise<void> {
  // A killed hand run's decrypted credentials do not wait for the next run that decrypts (security review 2, N7).
  if (context.paths.root === '/') removeCredentialLeftovers();
  const reports = await jobReports(context, names);
  const unhealthy = reports.filter((report) => !report.healthy);
  // Backups restic-systemd does not run, shown so that no one takes them for its jobs (they do not make it unhealthy).
  const others = enabledForeignResticUnits(context.paths).map((unit) => ({
    unit: unit.unit,
    service: unit.service,
    file: unit.file,
    repository: unit.repository ? maskSecrets(unit.repository) : null,
  }));
  if (context.json) {
    context.print(
      JSON.stringify({ healthy: unhealthy.length === 0, jobs: reports, otherResticUnits: others }, null, 2),
    );
  } else if (reports.length === 0) {
    context.print(`no profiles in ${context.paths.configDir}`);
  } else {
    const time = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '');
    context.print(
      formatTable(
        ['PROFILE', 'JOB', 'SCHEDULE', 'LAST RUN', 'RESULT', 'EXIT', 'SNAPSHOT', 'AGE', 'ADDED', 'NEXT RUN', 'PROBLEM'],
        reports.map((report) => [
          report.profile,
          report.job,
          report.schedule ?? '',
          time(report.lastRun),
          report.result ?? '',
          report.exitCode === null ? '' : String(report.exitCode),
          report.snapshotShort ?? '',
          age(report.snapshotTime ?? undefined),
          report.bytesAdded === null ? '' : formatBytes(report.bytesAdded),
          time(report.nextRun),
          report.problem ?? '',
        ]),
      ),
    );
  }
  const drills = reports.filter((report) => report.recoverySeconds !== null);
  if (!context.json && drills.length > 0) {
    context.print(
      drills
        .map(
          (drill) =>
            `restore drill of ${drill.profile} (${drill.lastRun?.slice(0, 16).replace('T', ' ')}): every database ` +
            `restored in ${drill.recoverySeconds!.toFixed(1)} s (the measured recovery time)`,
        )
        .join('\n'),
    );
  }
  if (!context.json && others.length > 0) {
    context.print(
      [
        '',
        "other units that run restic (not restic-systemd's):",
        ...others.map(
          (other) => `  ${other.unit}: ${other.file}${other.repository ? `, into ${other.repository}` : ''}`,
        ),
      ].join('\n'),
    );
  }
  if (unhealthy.length > 0) {
    throw new JobError(
      `${unhealthy.length} job(s) unhealthy: ` +
        `${unhealthy.map((report) => `${report.profile}/${report.job}`).join(', ')}`,
      ExitCode.Unhealthy,
    );
  }
}
