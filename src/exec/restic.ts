/**
 * restic: argv builders, the environment it runs with, its version, and what its exit codes and
 * messages mean. Secrets reach restic through its environment only, never through argv.
 */
import os from 'node:os';
import { onHost, type Paths } from '../paths.js';
import type { Profile } from '../profile/load.js';
import type { Runner } from './runner.js';

/** The tags every snapshot of a job carries; retention is scoped to them and the host. */
export function jobTags(profile: string, job: string): string[] {
  return [`profile:${profile}`, `job:${job}`];
}

export function backupArgs(profile: Profile, host: string, paths: readonly string[]): string[] {
  const values = profile.values;
  const args = ['backup', '--json', '--host', host];
  for (const tag of jobTags(profile.name, 'backup')) args.push('--tag', tag);
  for (const pattern of values.BACKUP_EXCLUDE) args.push('--exclude', pattern);
  if (values.BACKUP_EXCLUDE_FILE) args.push('--exclude-file', values.BACKUP_EXCLUDE_FILE);
  if (values.BACKUP_ONE_FILE_SYSTEM) args.push('--one-file-system');
  return [...args, '--', ...paths];
}

export interface Retention {
  within?: string;
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

/**
 * forget scoped to this host and this profile's job tags, grouped by host only: a changed
 * BACKUP_PATHS, or the per-run tags of database dumps, must not make groups that are never pruned.
 */
export function forgetArgs(host: string, tags: readonly string[], retention: Retention): string[] {
  const args = ['forget', '--json', '--host', host, '--tag', tags.join(','), '--group-by', 'host'];
  if (retention.within) args.push('--keep-within', retention.within);
  const counts = { last: '--keep-last', hourly: '--keep-hourly', daily: '--keep-daily', weekly: '--keep-weekly', monthly: '--keep-monthly', yearly: '--keep-yearly' } as const;
  for (const [key, flag] of Object.entries(counts)) {
    const value = retention[key as keyof typeof counts];
    if (value !== undefined) args.push(flag, String(value));
  }
  return args;
}

/** The host name snapshots are taken under: the profile's BACKUP_HOST, else this machine's. */
export function snapshotHost(profile: Profile): string {
  return profile.values.BACKUP_HOST ?? os.hostname();
}

/**
 * The variables restic runs with: the profile's, a cache folder, and under --root the profile's
 * local paths taken inside the root.
 */
export function resticEnvironment(profile: Profile, paths: Paths): Record<string, string> {
  const env: Record<string, string> = { RESTIC_CACHE_DIR: onHost(paths, paths.cacheDir), ...profile.env };
  if (paths.root !== '/') {
    for (const key of ['RESTIC_PASSWORD_FILE', 'RESTIC_REPOSITORY_FILE', 'RESTIC_CACHE_DIR', 'PGPASSFILE']) {
      if (env[key]?.startsWith('/')) env[key] = onHost(paths, env[key]!);
    }
    if (profile.localRepository) env.RESTIC_REPOSITORY = onHost(paths, profile.localRepository);
  }
  return env;
}

export interface ResticVersion {
  major: number;
  minor: number;
  patch: number;
  text: string;
}

export async function resticVersion(runner: Runner): Promise<ResticVersion> {
  const result = await runner.run('restic', ['version']);
  const match = /restic (\d+)\.(\d+)\.(\d+)/.exec(result.stdout);
  if (result.exitCode !== 0 || !match) return { major: 0, minor: 0, patch: 0, text: result.stdout.trim() || 'unknown' };
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), text: `${match[1]}.${match[2]}.${match[3]}` };
}

export function atLeast(version: ResticVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

export type ResticProblem = 'wrong-password' | 'no-repository' | 'locked' | 'interrupted' | 'unreachable' | 'other';

/**
 * What a failed restic call means. restic 0.17 and newer say it with exit codes (10, 11, 12,
 * 130); 0.14 to 0.16 exit 1 for all of them, so their messages are read as well.
 */
export function classifyResticFailure(exitCode: number, stderr: string, profile = '<name>'): { problem: ResticProblem; meaning: string } {
  const text = stderr.toLowerCase();
  if (exitCode === 12 || text.includes('wrong password')) {
    return { problem: 'wrong-password', meaning: 'wrong password or no key found: check RESTIC_PASSWORD_FILE (or RESTIC_PASSWORD) against the repository' };
  }
  // Checked before "no repository": restic 0.14 also asks "Is there a repository…?" when the server is down.
  if (/connection refused|no such host|i\/o timeout|network is unreachable|no route to host|dial tcp/.test(text)) {
    return { problem: 'unreachable', meaning: 'the repository cannot be reached: check the network and the repository server' };
  }
  if (exitCode === 10 || text.includes('is there a repository at the following location') || text.includes('unable to open config file')) {
    return { problem: 'no-repository', meaning: `there is no repository at RESTIC_REPOSITORY: create it with restic-systemd init ${profile}, or fix the location` };
  }
  if (exitCode === 11 || text.includes('repository is already locked')) {
    return { problem: 'locked', meaning: `the repository is locked by another restic process: wait for it, or remove a stale lock with restic-systemd exec ${profile} -- restic unlock` };
  }
  if (exitCode === 130) return { problem: 'interrupted', meaning: 'restic was interrupted' };
  return { problem: 'other', meaning: `restic failed with exit code ${exitCode}` };
}

/** The summary restic backup --json prints last. */
export interface BackupSummary {
  snapshotId?: string;
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  bytesAdded: number;
  bytesProcessed: number;
  durationSeconds: number;
}

/** Read one line of restic backup --json output; returns the summary when it is the summary line. */
export function parseBackupLine(line: string): BackupSummary | undefined {
  if (!line.startsWith('{')) return undefined;
  let message: Record<string, unknown>;
  try {
    message = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (message.message_type !== 'summary') return undefined;
  const number = (key: string) => (typeof message[key] === 'number' ? (message[key] as number) : 0);
  return {
    snapshotId: typeof message.snapshot_id === 'string' ? message.snapshot_id : undefined,
    filesNew: number('files_new'),
    filesChanged: number('files_changed'),
    filesUnmodified: number('files_unmodified'),
    bytesAdded: number('data_added'),
    bytesProcessed: number('total_bytes_processed'),
    durationSeconds: number('total_duration'),
  };
}
