/**
 * The exit-code table and the error classes. Every command ends through one catch in cli.ts that
 * maps these classes to exit codes; docs/exit-codes.md is generated from EXIT_CODES.
 */

export const ExitCode = {
  Ok: 0,
  Internal: 1,
  Usage: 2,
  InvalidProfile: 3,
  Environment: 4,
  CommandFailed: 5,
  BackupWarning: 6,
  LockTimeout: 7,
  Unhealthy: 8,
  UnitsOutdated: 9,
  RepositoryMissing: 10,
  RepositoryLocked: 11,
  AccessDenied: 12,
  RepositoryUnreachable: 13,
  HostUnknown: 14,
  HostKeyMismatch: 15,
  NotStandby: 20,
  ReplayAlreadyPaused: 21,
  DumpFailed: 22,
  ResticFailed: 23,
  ConsistencyLost: 24,
  StandbyNotReady: 25,
  SpoolUnavailable: 26,
  TargetExists: 27,
  RestoreFailed: 28,
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit code means, for docs/exit-codes.md and `--help`. */
export const EXIT_CODES: ReadonlyArray<{ code: ExitCode; name: keyof typeof ExitCode; meaning: string }> = [
  { code: ExitCode.Ok, name: 'Ok', meaning: 'Everything asked for succeeded.' },
  {
    code: ExitCode.Internal,
    name: 'Internal',
    meaning: 'An unexpected error (a bug): the message includes a stack trace; please report it.',
  },
  {
    code: ExitCode.Usage,
    name: 'Usage',
    meaning:
      'The command line is wrong: unknown command or flag, missing argument, or a profile name that is not allowed.',
  },
  {
    code: ExitCode.InvalidProfile,
    name: 'InvalidProfile',
    meaning:
      'A profile is missing, unreadable, malformed, invalid, or holds secrets with loose permissions (every ' +
      'problem is listed with file and line; nothing was written); or validate found a problem.',
  },
  {
    code: ExitCode.Environment,
    name: 'Environment',
    meaning:
      'The host is not ready: systemd is not running (use --root), a required program is not installed, a ' +
      'file could not be written, or a unit file that restic-systemd did not write is in the way.',
  },
  {
    code: ExitCode.CommandFailed,
    name: 'CommandFailed',
    meaning:
      'An external program (systemctl, systemd-analyze, restic, …) failed for a reason that has no code of ' +
      'its own below; the message quotes it. For a job: the run failed, and no retention ran; also the code a run ' +
      "killed before it wrote its result is recorded with (by its unit's ExecStopPost=), with how it ended.",
  },
  {
    code: ExitCode.BackupWarning,
    name: 'BackupWarning',
    meaning:
      'The backup saved its snapshot, but some files could not be read (restic exit 3) or a BACKUP_PATHS ' +
      'entry does not exist; the files are listed. Retention did not run. BACKUP_WARNING_IS_SUCCESS=yes turns ' +
      'this into 0.',
  },
  {
    code: ExitCode.LockTimeout,
    name: 'LockTimeout',
    meaning:
      'Another job of the same repository held the repository lock for longer than BACKUP_LOCK_WAIT; this run ' +
      'did nothing.',
  },
  {
    code: ExitCode.Unhealthy,
    name: 'Unhealthy',
    meaning:
      'status: a last run failed, was interrupted or ended with a warning, or is older than twice its ' +
      'schedule; the table says which.',
  },
  {
    code: ExitCode.UnitsOutdated,
    name: 'UnitsOutdated',
    meaning:
      'A job found that its units do not match the profile (it was edited, or never installed) in a way it ' +
      'cannot run with: a new local repository outside the sandbox. The message names what differs and the ' +
      'command to run (restic-systemd install <name>). Nothing was backed up.',
  },
  {
    code: ExitCode.RepositoryMissing,
    name: 'RepositoryMissing',
    meaning:
      'There is no repository at RESTIC_REPOSITORY: create it with restic-systemd init <name>, or fix the ' +
      "location (restic's own code 10).",
  },
  {
    code: ExitCode.RepositoryLocked,
    name: 'RepositoryLocked',
    meaning:
      'The repository is locked by a restic process of another host (or a live one here): wait for it, or ' +
      "remove a stale lock with restic-systemd exec <name> -- restic unlock (restic's own code 11).",
  },
  {
    code: ExitCode.AccessDenied,
    name: 'AccessDenied',
    meaning:
      "The repository refused the credentials: a wrong password (restic's own code 12), or wrong backend " +
      'credentials (REST password, S3/B2 keys, SFTP key).',
  },
  {
    code: ExitCode.RepositoryUnreachable,
    name: 'RepositoryUnreachable',
    meaning:
      'The repository server could not be reached (refused, timed out, connection lost during the run) for ' +
      'longer than BACKUP_NETWORK_TIMEOUT: check the network and the server; the next run retries.',
  },
  {
    code: ExitCode.HostUnknown,
    name: 'HostUnknown',
    meaning: "The repository's host name does not resolve: check RESTIC_REPOSITORY and the host's DNS.",
  },
  {
    code: ExitCode.HostKeyMismatch,
    name: 'HostKeyMismatch',
    meaning:
      "The server is not the one trusted: the SFTP server's host key is unknown or does not match the pinned " +
      "one (known_hosts), or the REST/S3 server's TLS certificate is not signed by a trusted CA " +
      '(RESTIC_CACERT) or not for its name. Check the server, then update known_hosts or RESTIC_CACERT.',
  },
  {
    code: ExitCode.NotStandby,
    name: 'NotStandby',
    meaning:
      'pg-backup: the node is not a standby (a primary, e.g. after a failover) and PG_ON_PRIMARY=fail. ' +
      'Nothing was paused or dumped.',
  },
  {
    code: ExitCode.ReplayAlreadyPaused,
    name: 'ReplayAlreadyPaused',
    meaning: 'pg-backup: WAL replay was already paused by someone else; it was left as it was and nothing was dumped.',
  },
  {
    code: ExitCode.DumpFailed,
    name: 'DumpFailed',
    meaning:
      'pg-backup: pg_dumpall (or the compressor) failed; the snapshot of this run was forgotten. Replay was resumed.',
  },
  {
    code: ExitCode.ResticFailed,
    name: 'ResticFailed',
    meaning:
      "pg-backup: restic failed for a reason that has no code of its own (10 to 15 name the repository's " +
      'problems); any snapshot of this run was forgotten. Replay was resumed.',
  },
  {
    code: ExitCode.ConsistencyLost,
    name: 'ConsistencyLost',
    meaning:
      'pg-backup: the dump is not of one point in time: the node was promoted, restarted, resumed replay, or ' +
      'stayed paused longer than PG_MAX_PAUSE during the dump. The snapshot was forgotten.',
  },
  {
    code: ExitCode.StandbyNotReady,
    name: 'StandbyNotReady',
    meaning:
      'pg-backup: the standby cannot be used now: no connection, not streaming, too much unreplayed WAL ' +
      '(PG_MAX_REPLAY_LAG), too little free WAL space (PG_MIN_FREE_WAL_SPACE), or an HA manager that would ' +
      'undo the pause (Patroni, with PG_HA_MANAGER not patroni). Nothing was paused or dumped.',
  },
  {
    code: ExitCode.SpoolUnavailable,
    name: 'SpoolUnavailable',
    meaning:
      'pg-backup (PG_DUMP_FORMAT=directory, or PG_DUMP_MODE=spool): the spool folder cannot take the dump ' +
      '(less free space than the databases need, a RAM file system, or a folder other accounts can enter); ' +
      'nothing was paused or dumped (PG_DUMP_MODE=auto streams the SQL format instead). restore: the folder ' +
      'it extracts an archive into has less free space than the archive needs; nothing was changed.',
  },
  {
    code: ExitCode.TargetExists,
    name: 'TargetExists',
    meaning:
      'restore: what it would bring back is there already (a database of that name in the target cluster, a ' +
      'table, a file in the target folder) and nothing was changed: restore it --as another name, or give ' +
      '--replace to rename a database aside first (it is never dropped).',
  },
  {
    code: ExitCode.RestoreFailed,
    name: 'RestoreFailed',
    meaning:
      'restore: pg_restore, psql or restic failed while restoring; a database this restore created was dropped ' +
      'again and one it renamed aside got its name back (the message names anything it could not undo).',
  },
  {
    code: ExitCode.Interrupted,
    name: 'Interrupted',
    meaning:
      'The job was stopped by a signal (systemctl stop, a timeout, Ctrl-C) and passed it to restic, whatever ' +
      'code restic then exited with: no retention ran, even when the last program finished despite the signal ' +
      '(the snapshot it saved is kept, and named in the message); a database run stopped during its dump ' +
      'undid its changes and forgot the snapshot of that dump.',
  },
];

/** Base class: an error whose message is meant for the operator and maps to one exit code. */
export abstract class ToolError extends Error {
  abstract readonly exitCode: ExitCode;
}

export class UsageError extends ToolError {
  readonly exitCode = ExitCode.Usage;
}

export interface ProfileIssue {
  file: string;
  line?: number;
  key?: string;
  message: string;
}

export function formatIssue(issue: ProfileIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return `${where}: ${issue.key ? `${issue.key}: ` : ''}${issue.message}`;
}

export class ProfileError extends ToolError {
  readonly exitCode = ExitCode.InvalidProfile;
  constructor(readonly issues: ProfileIssue[]) {
    const files = new Set(issues.map((issue) => issue.file)).size;
    super(
      `${issues.length === 1 ? 'a problem' : `${issues.length} problems`} in the ` +
        `profile${files > 1 ? 's' : ''}; nothing was changed:\n` +
        issues.map((issue) => `  ${formatIssue(issue)}`).join('\n'),
    );
  }
}

export class EnvironmentError extends ToolError {
  readonly exitCode = ExitCode.Environment;
}

export class LockTimeoutError extends ToolError {
  readonly exitCode = ExitCode.LockTimeout;
}

/** A job that ran and did not fully succeed: its exit code is the job's verdict. */
export class JobError extends ToolError {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export class CommandError extends ToolError {
  readonly exitCode = ExitCode.CommandFailed;
  constructor(
    message: string,
    readonly command: string,
    readonly commandExitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(message);
  }
}
