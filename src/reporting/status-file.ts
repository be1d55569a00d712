/**
 * What a run leaves behind for status and monitoring: <state-dir>/<name>.<job>.json and, when the
 * profile names a textfile folder, Prometheus metrics. Both are written atomically after every
 * run, and a failed run never looks successful: the last success time only moves on success.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ExitCode } from '../errors.js';
import { onHost, type Paths } from '../paths.js';
import { writeFileSafely } from '../files/write.js';
import { maskSecrets } from '../log.js';

/** success; warning: it ran but not everything was saved (or, PG_ON_PRIMARY=skip, nothing); interrupted: stopped by a
 * signal. */
export type JobResult = 'success' | 'warning' | 'failure' | 'interrupted';

/** What a run reports about its snapshot, when it made one. */
export interface RunStats {
  host?: string;
  resticVersion?: string;
  /** The full ID of the snapshot the run saved. */
  snapshotId?: string;
  filesNew?: number;
  filesChanged?: number;
  bytesAdded?: number;
  /** The restore drill: how long restoring every database took (the measured recovery time). */
  recoverySeconds?: number;
}

export interface JobStatus extends RunStats {
  profile: string;
  job: string;
  result: JobResult;
  exitCode: ExitCode;
  message: string;
  start: string;
  end: string;
  durationSeconds: number;
  /** The end of the last fully successful run, this one or an earlier one. */
  lastSuccess: string | null;
  /** The last snapshot a run of this job saved (this run's or an earlier one's), and when. */
  lastSnapshot: { id: string; time: string } | null;
  /** systemd's INVOCATION_ID of the run, when a unit ran it. */
  invocation?: string;
  /** The last run that did not succeed (this one or an earlier one): what its notification reports. */
  lastFailure?: FailedRun | null;
}

/** A run that did not succeed, kept after later runs so that its notification still finds it. */
export type FailedRun = Pick<JobStatus, 'result' | 'exitCode' | 'message' | 'end' | 'invocation'>;

/** The status file's fields of a run's end: its invocation, and the last failure kept or replaced. */
export function failureFields(
  run: Pick<JobStatus, 'result' | 'exitCode' | 'message' | 'end'>,
  previous: JobStatus | undefined,
  invocation: string | undefined,
): Pick<JobStatus, 'invocation' | 'lastFailure'> {
  const { result, exitCode, message, end } = run;
  return {
    ...(invocation ? { invocation } : {}),
    lastFailure:
      result === 'success' ? (previous?.lastFailure ?? null) : { result, exitCode, message, end, invocation },
  };
}

/** The status file of a job, as the target system sees it. */
function statusPath(paths: Paths, profile: string, job: string): string {
  return path.posix.join(paths.stateDir, `${profile}.${job}.json`);
}

export function statusFile(paths: Paths, profile: string, job: string): string {
  return onHost(paths, statusPath(paths, profile, job));
}

export function readStatus(paths: Paths, profile: string, job: string): JobStatus | undefined {
  const read = readStatusChecked(paths, profile, job);
  return 'status' in read ? read.status : undefined;
}

/** The status file, or why it cannot be read: a damaged file must not look like a job that never ran. */
export function readStatusChecked(
  paths: Paths,
  profile: string,
  job: string,
): { status: JobStatus | undefined } | { unreadable: string } {
  const file = statusFile(paths, profile, job);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { status: undefined } : { unreadable: `${statusPath(paths, profile, job)}: ${code}` };
  }
  try {
    const status = JSON.parse(text) as JobStatus;
    if (typeof status !== 'object' || status === null || typeof status.result !== 'string') throw new Error('');
    return { status };
  } catch {
    return { unreadable: `${statusPath(paths, profile, job)} is not a status file restic-systemd wrote (damaged?)` };
  }
}

export function writeStatus(paths: Paths, status: JobStatus): void {
  // Masked, and not readable by others: a message can quote restic (file names) and the profile.
  writeFileSafely(
    paths.root,
    statusPath(paths, status.profile, status.job),
    maskSecrets(`${JSON.stringify(status, null, 2)}\n`),
    { mode: 0o640, createFolders: 0o755 },
  );
}

function metricLine(name: string, status: JobStatus, value: number): string {
  return `${name}{profile="${status.profile}",task="${status.job}"} ${value}`;
}

/** What the metrics say beyond the status: the schedule a monitor judges the last success against. */
export interface MetricsContext {
  /** Time between two runs of the job's timer, from systemd-analyze calendar; undefined without a schedule. */
  scheduleIntervalSeconds?: number;
}

function metricBlock(name: string, help: string, line: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${line}\n`;
}

export function renderMetrics(status: JobStatus, extra: MetricsContext = {}): string {
  const seconds = (iso: string | null) => (iso ? Date.parse(iso) / 1000 : 0);
  const metrics: Array<[string, string, number]> = [
    ['restic_systemd_last_run_timestamp_seconds', 'End of the last run, success or not.', seconds(status.end)],
    [
      'restic_systemd_last_success_timestamp_seconds',
      'End of the last fully successful run (0: never).',
      seconds(status.lastSuccess),
    ],
    [
      'restic_systemd_last_exit_code',
      'Exit code of the last run (0 success, 6 warning, others failure).',
      status.exitCode,
    ],
    ['restic_systemd_last_duration_seconds', 'Duration of the last run.', status.durationSeconds],
    ['restic_systemd_last_bytes_added', 'Bytes the last run added to the repository.', status.bytesAdded ?? 0],
    [
      'restic_systemd_last_recovery_seconds',
      'Restore drill: how long the last run took to restore every database (0: not a drill, or none measured).',
      status.recoverySeconds ?? 0,
    ],
    [
      'restic_systemd_schedule_interval_seconds',
      "Time between two runs of the job's timer (0: no schedule); the last success is late after twice this.",
      extra.scheduleIntervalSeconds ?? 0,
    ],
  ];
  return metrics.map(([name, help, value]) => metricBlock(name, help, metricLine(name, status, value))).join('');
}

/** The textfile folder belongs to node_exporter's account: written into without following anything in it. */
function writeMetricsFile(paths: Paths, folder: string, name: string, text: string): void {
  writeFileSafely(paths.root, path.posix.join(folder, name), text, {
    mode: 0o644,
    trust: 'shared',
    createFolders: 0o755,
  });
}

export function writeMetrics(paths: Paths, folder: string, status: JobStatus, extra: MetricsContext = {}): void {
  writeMetricsFile(paths, folder, `restic-systemd_${status.profile}_${status.job}.prom`, renderMetrics(status, extra));
}

/**
 * Whether the database jobs left the standby as they found it: one file per profile, written by
 * whichever of pg-backup and pg-cleanup ran last, so that a pause one left and the other undid
 * is not reported by a stale file.
 */
export function renderStandbyMetrics(profile: string, leftPaused: boolean): string {
  const name = 'restic_systemd_replay_left_paused';
  return metricBlock(
    name,
    "A database run left the standby's replay paused, repmgrd stopped or Patroni in maintenance mode, and nothing " +
      'has restored it yet (1).',
    `${name}{profile="${profile}"} ${leftPaused ? 1 : 0}`,
  );
}

export function writeStandbyMetrics(paths: Paths, folder: string, profile: string, leftPaused: boolean): void {
  writeMetricsFile(paths, folder, `restic-systemd_${profile}_standby.prom`, renderStandbyMetrics(profile, leftPaused));
}
