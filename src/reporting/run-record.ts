/**
 * The record of a job's run in progress, <state-dir>/<name>.<job>.running.json: written as the run
 * starts, removed once its status file is written. One whose process is gone, with no status newer
 * than it, is a run that ended without a result (SIGKILL, the OOM killer, a power cut): `ended`
 * (ExecStopPost= of every job's unit) writes its status and metrics, and until then status and
 * notify report it from the record, so that a killed run never leaves an earlier success showing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode } from '../errors.js';
import { processAlive, processStartTime } from '../exec/processes.js';
import { removeFileSafely, writeFileSafely } from '../files/write.js';
import { onHost, type Paths } from '../paths.js';
import type { JobStatus } from './status-file.js';

export interface RunRecord {
  pid: number;
  /** The process's start (/proc/<pid>/stat): a pid reused by another process has another. */
  processStart?: string;
  start: string;
}

function recordPath(paths: Paths, profile: string, job: string): string {
  return path.posix.join(paths.stateDir, `${profile}.${job}.running.json`);
}

export function writeRunRecord(paths: Paths, profile: string, job: string, start: Date): void {
  const record: RunRecord = {
    pid: process.pid,
    processStart: processStartTime(process.pid),
    start: start.toISOString(),
  };
  writeFileSafely(paths.root, recordPath(paths, profile, job), `${JSON.stringify(record)}\n`, {
    mode: 0o640,
    createFolders: 0o755,
  });
}

export function removeRunRecord(paths: Paths, profile: string, job: string): void {
  removeFileSafely(paths.root, recordPath(paths, profile, job));
}

export function readRunRecord(paths: Paths, profile: string, job: string): RunRecord | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(onHost(paths, recordPath(paths, profile, job)), 'utf8')) as RunRecord;
    return typeof record.pid === 'number' && typeof record.start === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

/** How the main process ended, from what systemd gives ExecStopPost=. */
export function howItEnded(env: NodeJS.ProcessEnv): string {
  const { SERVICE_RESULT: result, EXIT_CODE: code, EXIT_STATUS: status } = env;
  if (!result) return 'killed, or the machine stopped';
  if (result === 'oom-kill') return 'killed by the OOM killer';
  if ((code === 'killed' || code === 'dumped') && status) return `killed by SIG${status} (SERVICE_RESULT=${result})`;
  return `SERVICE_RESULT=${result}${status ? `, exit status ${status}` : ''}`;
}

/** Under another root nothing of it runs here: its processes' pids mean nothing on this system. */
export function stillRunning(paths: Paths, record: RunRecord): boolean {
  return paths.root === '/' && processAlive(record.pid) && processStartTime(record.pid) === record.processStart;
}

/**
 * The status of a run that ended without writing one, or undefined: no record, a record older than the
 * status (its run wrote one), or a run still going. `why` says how it ended, when the caller knows.
 */
export function unfinishedRun(
  paths: Paths,
  profile: string,
  job: string,
  status: JobStatus | undefined,
  why = 'killed, or the machine stopped',
): JobStatus | undefined {
  const record = readRunRecord(paths, profile, job);
  if (!record || (status && Date.parse(status.end) >= Date.parse(record.start))) return undefined;
  if (stillRunning(paths, record)) return undefined;
  return {
    profile,
    job,
    result: 'failure',
    exitCode: ExitCode.CommandFailed,
    message: `the run that started ${record.start} ended without a result (${why})`,
    start: record.start,
    // When it ended is not known; not before it started.
    end: record.start,
    durationSeconds: 0,
    lastSuccess: status?.lastSuccess ?? null,
    lastSnapshot: status?.lastSnapshot ?? null,
  };
}
