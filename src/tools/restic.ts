/**
 * restic: argv builders, the environment it runs with, its version, and what its exit codes and
 * messages mean. Secrets reach restic through its environment only, never through argv.
 */
import os from 'node:os';
import { onHost, type Paths } from '../paths.js';
import type { Profile } from '../profile/model.js';
import { ExitCode } from '../errors.js';
import type { Runner } from '../exec/runner.js';

/** The tags every snapshot of a job carries; retention is scoped to them and the host. */
export function jobTags(profile: string, job: string): string[] {
  return [`profile:${profile}`, `job:${job}`];
}

/**
 * `onHost` maps the profile's own paths (files it names, patterns anchored at /) to this host's:
 * under --root they are the target system's.
 */
export function backupArgs(
  profile: Profile,
  host: string,
  paths: readonly string[],
  onHost: (target: string) => string = (target) => target,
): string[] {
  const values = profile.values;
  const anchored = (pattern: string) => (pattern.startsWith('/') ? onHost(pattern) : pattern);
  const args = ['backup', '--json', '--host', host];
  for (const tag of jobTags(profile.name, 'backup')) args.push('--tag', tag);
  for (const tag of values.BACKUP_TAGS ?? []) args.push('--tag', tag);
  for (const pattern of values.BACKUP_EXCLUDE) args.push('--exclude', anchored(pattern));
  for (const pattern of values.BACKUP_IEXCLUDE ?? []) args.push('--iexclude', anchored(pattern));
  for (const file of values.BACKUP_EXCLUDE_FILE ?? []) args.push('--exclude-file', onHost(file));
  for (const name of values.BACKUP_EXCLUDE_IF_PRESENT ?? []) args.push('--exclude-if-present', name);
  if (values.BACKUP_EXCLUDE_CACHES) args.push('--exclude-caches');
  if (values.BACKUP_EXCLUDE_LARGER_THAN) args.push('--exclude-larger-than', values.BACKUP_EXCLUDE_LARGER_THAN);
  for (const file of values.BACKUP_FILES_FROM ?? []) args.push('--files-from', onHost(file));
  if (values.BACKUP_ONE_FILE_SYSTEM) args.push('--one-file-system');
  return [...args, '--', ...paths];
}

export interface Retention {
  within?: string;
  withinHourly?: string;
  withinDaily?: string;
  withinWeekly?: string;
  withinMonthly?: string;
  withinYearly?: string;
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
  const durations = {
    within: '--keep-within',
    withinHourly: '--keep-within-hourly',
    withinDaily: '--keep-within-daily',
    withinWeekly: '--keep-within-weekly',
    withinMonthly: '--keep-within-monthly',
    withinYearly: '--keep-within-yearly',
  } as const;
  for (const [key, flag] of Object.entries(durations)) {
    const value = retention[key as keyof typeof durations];
    if (value) args.push(flag, value);
  }
  const counts = {
    last: '--keep-last',
    hourly: '--keep-hourly',
    daily: '--keep-daily',
    weekly: '--keep-weekly',
    monthly: '--keep-monthly',
    yearly: '--keep-yearly',
  } as const;
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
  const env: Record<string, string> = { ...profile.env };
  if (paths.root !== '/') {
    for (const key of [
      'RESTIC_PASSWORD_FILE',
      'RESTIC_REPOSITORY_FILE',
      'RESTIC_CACHE_DIR',
      'RESTIC_CACERT',
      'RESTIC_TLS_CLIENT_CERT',
      'PGPASSFILE',
    ]) {
      if (env[key]?.startsWith('/')) env[key] = onHost(paths, env[key]!);
    }
    if (profile.localRepository) env.RESTIC_REPOSITORY = onHost(paths, profile.localRepository);
  }
  env.RESTIC_CACHE_DIR ??= onHost(paths, paths.cacheDir);
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
  return parseResticVersion(result.exitCode === 0 ? result.stdout : '');
}

export function parseResticVersion(output: string): ResticVersion {
  const match = /restic (\d+)\.(\d+)\.(\d+)/.exec(output);
  if (!match) return { major: 0, minor: 0, patch: 0, text: output.trim() || 'unknown' };
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    text: `${match[1]}.${match[2]}.${match[3]}`,
  };
}

export function atLeast(version: ResticVersion, major: number, minor: number, patch = 0): boolean {
  return version.major !== major
    ? version.major > major
    : version.minor !== minor
      ? version.minor > minor
      : version.patch >= patch;
}

/** The oldest restic restic-systemd supports: Debian 12's. */
export const OLDEST_SUPPORTED = { major: 0, minor: 14, patch: 0, text: '0.14.0' } as const;

/** What a restic release can do that older ones cannot (restic's changelog). */
export function resticFeatures(version: ResticVersion) {
  return {
    /** backup --stdin-from-command: restic runs the command and saves no snapshot when it fails (0.17.0). */
    stdinFromCommand: atLeast(version, 0, 17, 0),
    /** The backup summary carries the full snapshot ID (0.15.0); 0.14 prints the short one. */
    fullSnapshotIds: atLeast(version, 0, 15, 0),
  };
}

/** restic's own exit codes (restic 0.17+ for 10, 11, 12 and 130; older releases exit 1 for those). */
export const RESTIC_EXIT = {
  ok: 0,
  fatal: 1,
  /** A snapshot was saved, but some source files could not be read. */
  incomplete: 3,
  noRepository: 10,
  locked: 11,
  wrongPassword: 12,
  interrupted: 130,
} as const;

/** One expression matching any of these (lower-case) messages of restic and its backends. */
const anyOf = (...patterns: string[]) => new RegExp(patterns.join('|'));

const HOST_KEY_CHANGED = anyOf(
  'host key verification failed',
  'remote host identification has changed',
  String.raw`no \S+ host key is known for`,
  String.raw`host key for \S+ has changed`,
);
const CERTIFICATE_UNTRUSTED = anyOf(
  'x509: ',
  'tls: failed to verify certificate',
  'certificate signed by unknown authority',
  'certificate is valid for',
);
const NAME_UNRESOLVED = anyOf(
  'no such host',
  'could not resolve hostname',
  'name or service not known',
  'temporary failure in name resolution',
  'server misbehaving',
);
const CREDENTIALS_REFUSED = anyOf(
  String.raw`permission denied \(publickey`,
  String.raw`unexpected http response \(401\)`,
  String.raw`unexpected http response \(403\)`,
  'access denied',
  'invalidaccesskeyid',
  'signaturedoesnotmatch',
  String.raw`\b401 unauthorized`,
  String.raw`\b403 forbidden`,
  'authentication failed',
  'bad_auth_token',
  'unauthorized',
);
const CONNECTION_FAILED = anyOf(
  'connection refused',
  'i/o timeout',
  'network is unreachable',
  'no route to host',
  'dial tcp',
  'connection reset',
  'connection timed out',
  'connection closed',
  'unexpected eof',
  'broken pipe',
  'did not answer within',
);

export type ResticProblem =
  | 'wrong-password'
  | 'access-denied'
  | 'no-repository'
  | 'locked'
  | 'interrupted'
  | 'unreachable'
  | 'host-unknown'
  | 'host-key'
  | 'other';

export interface ResticFailure {
  problem: ResticProblem;
  meaning: string;
  /** The exit code the job ends with; undefined: the job's own code for a failed restic. */
  exitCode?: ExitCode;
}

const INTERRUPTED: ResticFailure = {
  problem: 'interrupted',
  exitCode: ExitCode.Interrupted,
  meaning: 'restic was interrupted',
};

/**
 * What a failed restic call means. restic 0.17 and newer say some of it with exit codes (10 no
 * repository, 11 locked, 12 wrong password, 130 interrupted); older releases exit 1 for all of
 * them, so their messages are read as well, and so are the backends' (ssh, HTTP, DNS).
 */
export function classifyResticFailure(exitCode: number, stderr: string, profile = '<name>'): ResticFailure {
  const text = stderr.toLowerCase();
  if (exitCode === RESTIC_EXIT.wrongPassword || text.includes('wrong password')) {
    return {
      problem: 'wrong-password',
      exitCode: ExitCode.AccessDenied,
      meaning: 'wrong password or no key found: check RESTIC_PASSWORD_FILE (or RESTIC_PASSWORD) against the repository',
    };
  }
  if (exitCode === RESTIC_EXIT.interrupted) return INTERRUPTED;
  if (HOST_KEY_CHANGED.test(text)) {
    return {
      problem: 'host-key',
      exitCode: ExitCode.HostKeyMismatch,
      meaning:
        "the SFTP server's host key is not the one in known_hosts (or none is known): check that it is the " +
        'right server, then pin its key in known_hosts',
    };
  }
  // restic 0.17+ may exit before it has relayed more of ssh's warning than its first line, a row of "@".
  if (/subprocess ssh: @{20,}/.test(text)) {
    return {
      problem: 'host-key',
      exitCode: ExitCode.HostKeyMismatch,
      meaning:
        "ssh refused with its warning banner: most likely the SFTP server's host key is not the one in " +
        'known_hosts (check the server, then known_hosts); the same banner warns of a private key file others ' +
        'can read (chmod 600 it)',
    };
  }
  if (CERTIFICATE_UNTRUSTED.test(text)) {
    return {
      problem: 'host-key',
      exitCode: ExitCode.HostKeyMismatch,
      meaning:
        "the server's TLS certificate is not trusted (or is not for this host name): check that it is the " +
        "right server; a certificate of your own CA needs RESTIC_CACERT=<the CA's file> in the profile",
    };
  }
  if (NAME_UNRESOLVED.test(text)) {
    return {
      problem: 'host-unknown',
      exitCode: ExitCode.HostUnknown,
      meaning: "the repository's host name does not resolve: check RESTIC_REPOSITORY and DNS",
    };
  }
  if (CREDENTIALS_REFUSED.test(text)) {
    return {
      problem: 'access-denied',
      exitCode: ExitCode.AccessDenied,
      meaning:
        "the repository's server refused the credentials: check the backend's user, password or keys in the profile",
    };
  }
  // Checked before "no repository": restic 0.14 also asks "Is there a repository…?" when the server is down.
  if (CONNECTION_FAILED.test(text)) {
    return {
      problem: 'unreachable',
      exitCode: ExitCode.RepositoryUnreachable,
      meaning: 'the repository cannot be reached: check the network and the repository server',
    };
  }
  // ssh ended before the SFTP session began, and restic lost ssh's own reason (its relay of ssh's
  // stderr can lose the race with its exit): most often the server is down or cannot be reached.
  if (/unable to start the sftp session/.test(text)) {
    return {
      problem: 'unreachable',
      exitCode: ExitCode.RepositoryUnreachable,
      meaning:
        'ssh ended before the SFTP session began and restic passed on no reason: most likely the SFTP server ' +
        'is down or cannot be reached; if it is up, see why with ssh -v <user>@<host> as root (a refused key, ' +
        'an unknown host key)',
    };
  }
  // The rclone that restic started ended or never answered; rclone's own reason may be missing
  // (restic 0.14 relays its stderr as racily as ssh's).
  if (/error talking http to rclone/.test(text)) {
    return {
      problem: 'unreachable',
      exitCode: ExitCode.RepositoryUnreachable,
      meaning:
        'restic could not talk to the rclone it started: most likely rclone cannot reach its remote (server ' +
        'down, network); if it is up, see why with rclone lsd <remote>: as root (its config, its credentials)',
    };
  }
  // Read after the backends' errors: restic 0.14 also cancels its own context when rclone fails to connect.
  if (text.includes('context canceled')) return INTERRUPTED;
  if (
    exitCode === RESTIC_EXIT.noRepository ||
    text.includes('is there a repository at the following location') ||
    text.includes('unable to open config file') ||
    text.includes('repository does not exist')
  ) {
    return {
      problem: 'no-repository',
      exitCode: ExitCode.RepositoryMissing,
      meaning:
        `there is no repository at RESTIC_REPOSITORY: create it with restic-systemd init ${profile}, or fix the ` +
        `location`,
    };
  }
  if (exitCode === RESTIC_EXIT.locked || text.includes('repository is already locked')) {
    return {
      problem: 'locked',
      exitCode: ExitCode.RepositoryLocked,
      meaning:
        `the repository is locked by another restic process: wait for it, or remove a stale lock with ` +
        `restic-systemd exec ${profile} -- restic unlock`,
    };
  }
  return { problem: 'other', meaning: `restic failed with exit code ${exitCode}` };
}

/**
 * restic's stderr as lines for people: with --json, restic 0.17.1 and newer write errors as JSON
 * objects (the unreadable file and why; the exit error, with a Go stack trace in 0.19), and the
 * terminal's "clear line" escape appears before some messages.
 */
export function readableResticOutput(stderr: string): string[] {
  const lines: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim();
    if (line === '') continue;
    if (!line.startsWith('{')) {
      lines.push(line);
      continue;
    }
    let message: { message_type?: string; error?: { message?: string }; item?: string; message?: string };
    try {
      message = JSON.parse(line);
    } catch {
      lines.push(line);
      continue;
    }
    if (message.message_type === 'error')
      lines.push(`${message.item ? `${message.item}: ` : ''}${message.error?.message ?? 'error'}`);
    else if (message.message_type === 'exit_error' && message.message) lines.push(message.message.split('\n')[0]!);
  }
  return lines;
}

/** The short form of a snapshot ID, as restic's own tables print it. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** The summary restic backup --json prints last. */
export interface BackupSummary {
  /** Full (restic 0.15+) or short (0.14); absent when restic saved no snapshot. */
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
