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

/** success; warning: it ran but not everything was saved (or, PG_ON_PRIMARY=skip, nothing); interrupted: stopped by a signal. */
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
}

/** The status file of a job, as the target system sees it. */
function statusPath(paths: Paths, profile: string, job: string): string {
  return path.posix.join(paths.stateDir, `${profile}.${job}.json`);
}

export function statusFile(paths: Paths, profile: string, job: string): string {
  return onHost(paths, statusPath(paths, profile, job));
}

export function readStatus(paths: Paths, profile: string, job: string): JobStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(statusFile(paths, profile, job), 'utf8')) as JobStatus;
  } catch {
    return undefined;
  }
}

export function writeStatus(paths: Paths, status: JobStatus): void {
  // Masked, and not readable by others: a message can quote restic (file names) and the profile.
  writeFileSafely(paths.root, statusPath(paths, status.profile, status.job), maskSecrets(`${JSON.stringify(status, null, 2)}\n`), { mode: 0o640, createFolders: 0o755 });
}

function metricLine(name: string, status: JobStatus, value: number): string {
  return `${name}{profile="${status.profile}",job="${status.job}"} ${value}`;
}

export function renderMetrics(status: JobStatus): string {
  const seconds = (iso: string | null) => (iso ? Date.parse(iso) / 1000 : 0);
  const metrics: Array<[string, string, number]> = [
    ['restic_systemd_last_run_timestamp_seconds', 'End of the last run, success or not.', seconds(status.end)],
    ['restic_systemd_last_success_timestamp_seconds', 'End of the last fully successful run (0: never).', seconds(status.lastSuccess)],
    ['restic_systemd_last_exit_code', 'Exit code of the last run (0 success, 6 warning, others failure).', status.exitCode],
    ['restic_systemd_last_duration_seconds', 'Duration of the last run.', status.durationSeconds],
    ['restic_systemd_last_bytes_added', 'Bytes the last run added to the repository.', status.bytesAdded ?? 0],
  ];
  return metrics.map(([name, help, value]) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${metricLine(name, status, value)}\n`).join('');
}

export function writeMetrics(paths: Paths, folder: string, status: JobStatus): void {
  // The textfile folder belongs to node_exporter's account: written into without following anything in it.
  writeFileSafely(paths.root, path.posix.join(folder, `restic-systemd_${status.profile}_${status.job}.prom`), renderMetrics(status), { mode: 0o644, trust: 'shared', createFolders: 0o755 });
}
