/**
 * THE profile model: one declarative table of every key restic-systemd reads or checks. The
 * Profile type, the defaults, the validation messages and docs/profile.md all come from it.
 */
import {
  absolutePath,
  absolutePathList,
  absolutePaths,
  calendar,
  count,
  positiveCount,
  dataSubset,
  repositoryLocation,
  databasePatterns,
  emptyMeansUnset,
  hostName,
  httpUrl,
  nonEmpty,
  oneOf,
  optionalResticDuration,
  resticDuration,
  resticOptions,
  resticSize,
  serviceName,
  size,
  tags,
  text,
  timespan,
  words,
  writableFolder,
  yesNo,
} from './parsers.js';

export type FieldGroup = 'repository' | 'backup' | 'database' | 'notify';

export interface Field<T> {
  group: FieldGroup;
  /** Keys of restic or libpq are passed through untouched; ours are consumed by the tool. */
  owner: 'restic' | 'libpq' | 'restic-systemd';
  /** Turns the raw text into the typed value; throws FieldValueError. */
  parse: (raw: string) => T;
  /** The raw default; `<name>` stands for the profile name. Absent: the key is optional. */
  default?: string;
  /** Checked by a systemd program after parsing (tools/schedule-checks.ts). */
  check?: 'calendar';
  /** The value is a secret: never logged, refused in a profile readable by others. */
  secret?: boolean;
  /** The value names a file holding a secret: refused if that file is readable by others. */
  secretFile?: boolean;
  doc: string;
  example?: string;
}

export const FIELDS = {
  NOTIFY_COMMAND: {
    group: 'notify',
    owner: 'restic-systemd',
    parse: words(),
    doc:
      "A command run when any job of the profile fails (its unit's OnFailure=), as words separated by spaces " +
      '(no shell). It gets RESTIC_SYSTEMD_UNIT, RESTIC_SYSTEMD_PROFILE, RESTIC_SYSTEMD_JOB, ' +
      'RESTIC_SYSTEMD_RESULT, RESTIC_SYSTEMD_EXIT_CODE and RESTIC_SYSTEMD_MESSAGE in its environment. Its ' +
      'failure never fails a backup.',
    example: '/usr/local/bin/page-oncall',
  },
  RESTIC_REPOSITORY: {
    group: 'repository',
    owner: 'restic',
    parse: repositoryLocation(),
    doc:
      "restic's repository location: an absolute local path, or a backend URL. Required unless " +
      'RESTIC_REPOSITORY_FILE is set. A password inside the URL makes this a secret.',
    example: '/srv/restic-repo',
  },
  RESTIC_REPOSITORY_FILE: {
    group: 'repository',
    owner: 'restic',
    parse: absolutePath(),
    secretFile: true,
    doc:
      'A file holding the repository location, instead of RESTIC_REPOSITORY: for a location that holds ' +
      'credentials (a REST URL with its password). restic-systemd does not read it, so for a local repository ' +
      "use RESTIC_REPOSITORY: only then does the units' sandbox let the job write the folder, and the " +
      'repository lock know which repository it is.',
  },
  RESTIC_PASSWORD_FILE: {
    group: 'repository',
    owner: 'restic',
    parse: absolutePath(),
    secretFile: true,
    doc:
      'A file holding the repository password: the recommended way. It must not be readable by group or others ' +
      '(chmod 600).',
    example: '/etc/restic/myconf.password',
  },
  RESTIC_PASSWORD: {
    group: 'repository',
    owner: 'restic',
    parse: nonEmpty('the repository password'),
    secret: true,
    doc:
      'The repository password itself. Allowed, but then the profile must not be readable by group or others ' +
      '(chmod 600). Exactly one of RESTIC_PASSWORD, RESTIC_PASSWORD_FILE and RESTIC_PASSWORD_COMMAND.',
  },
  RESTIC_PASSWORD_COMMAND: {
    group: 'repository',
    owner: 'restic',
    parse: nonEmpty('a command that prints the password'),
    doc: 'A command that prints the repository password (run by restic).',
  },
  ENCRYPTED_CREDENTIALS: {
    group: 'repository',
    owner: 'restic-systemd',
    parse: words(),
    doc:
      'The secrets systemd holds encrypted for this profile, separated by spaces: written by restic-systemd ' +
      'credentials <name>, which moves them out of the profile. Each is in ' +
      '/etc/credstore.encrypted/restic-systemd.<name>.<KEY> (systemd-creds encrypt) and reaches the jobs ' +
      "through the units' LoadCredentialEncrypted=. RESTIC_PASSWORD (the repository password) and " +
      'RESTIC_REPOSITORY (a repository URL with a password; the profile keeps the URL without it) reach restic ' +
      "as files, never through an environment; any other key (a backend's or libpq's secret) reaches its " +
      "program in that program's environment, where restic and libpq read it.",
    example: 'RESTIC_PASSWORD AWS_SECRET_ACCESS_KEY',
  },
  BACKUP_PATHS: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: absolutePaths(),
    default: '/media/<name>',
    doc:
      'The paths the restic@ job backs up, separated by spaces. It also switches that job on: a profile that ' +
      'configures a database (any PG… key) and sets no BACKUP_PATHS has no file backup (no ' +
      "restic@<name>.timer); any other profile backs up BACKUP_PATHS, /media/<name> by default (the guide's " +
      'volume).',
    example: '/media/myconf /etc',
  },
  BACKUP_SCHEDULE: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: calendar(),
    check: 'calendar',
    default: 'hourly',
    doc:
      'When restic@<name>.timer runs the backup: a systemd calendar expression (man systemd.time), checked with ' +
      'systemd-analyze calendar.',
    example: '*-*-* *:15:00',
  },
  BACKUP_RANDOMIZED_DELAY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: timespan(),
    default: '5min',
    doc: 'RandomizedDelaySec= of the backup timer: spreads the start of many hosts sharing a repository server.',
  },
  BACKUP_TIMEOUT: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: timespan(),
    default: '6h',
    doc:
      'TimeoutStartSec= of restic@<name>.service: a backup still running after this long is stopped and counted ' +
      'as failed.',
  },
  BACKUP_KEEP_WITHIN: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: optionalResticDuration(),
    default: '7d',
    doc:
      "Retention of the backup job's snapshots, as restic forget --keep-within (counted back from the newest " +
      'snapshot). Empty: no time-based rule.',
  },
  BACKUP_KEEP_LAST: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: count(),
    doc: 'Also keep the last N snapshots (restic forget --keep-last).',
  },
  BACKUP_KEEP_HOURLY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: count(),
    doc: 'Also keep the last snapshot of each of the last N hours that have one (--keep-hourly).',
  },
  BACKUP_KEEP_DAILY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: count(),
    doc: 'Also keep one snapshot for each of the last N days that have one (--keep-daily).',
  },
  BACKUP_KEEP_WEEKLY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: count(),
    doc: 'Also keep one snapshot for each of the last N weeks (--keep-weekly).',
  },
  BACKUP_KEEP_MONTHLY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: count(),
    doc: 'Also keep one snapshot for each of the last N months (--keep-monthly).',
  },
  BACKUP_KEEP_YEARLY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: count(),
    doc: 'Also keep one snapshot for each of the last N years (--keep-yearly).',
  },
  BACKUP_EXCLUDE: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: words(),
    default: '',
    doc: 'Patterns restic backup leaves out (--exclude), separated by spaces.',
    example: '/var/cache *.tmp',
  },
  BACKUP_EXCLUDE_FILE: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: absolutePathList(),
    doc: 'Files of exclude patterns, one pattern a line (--exclude-file), separated by spaces.',
  },
  BACKUP_IEXCLUDE: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: words(),
    doc: 'Patterns left out whatever their case (--iexclude), separated by spaces.',
  },
  BACKUP_EXCLUDE_IF_PRESENT: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: words(),
    doc: 'Leave out every folder holding a file of one of these names (--exclude-if-present), separated by spaces.',
    example: '.nobackup',
  },
  BACKUP_EXCLUDE_CACHES: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: yesNo(),
    default: 'no',
    doc: 'yes: leave out folders marked as caches by a CACHEDIR.TAG file (--exclude-caches).',
  },
  BACKUP_EXCLUDE_LARGER_THAN: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: resticSize(),
    doc: 'Leave out files larger than this (--exclude-larger-than), such as "1G".',
  },
  BACKUP_FILES_FROM: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: absolutePathList(),
    doc:
      'Files listing what to back up, one path or pattern a line (--files-from), separated by spaces; with it, ' +
      'BACKUP_PATHS has no default.',
  },
  BACKUP_TAGS: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: tags(),
    doc:
      'More tags for every snapshot of the backup job (--tag), separated by spaces; its own tags ' +
      '(profile:<name>, job:backup) are always there, and retention still selects by them.',
    example: 'home nightly',
  },
  BACKUP_KEEP_WITHIN_HOURLY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: emptyMeansUnset(resticDuration()),
    doc:
      'Also keep the last snapshot of every hour within this duration of the newest one (--keep-within-hourly), ' +
      'such as "24h".',
  },
  BACKUP_KEEP_WITHIN_DAILY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: emptyMeansUnset(resticDuration()),
    doc: 'Also keep the last snapshot of every day within this duration (--keep-within-daily), such as "7d".',
  },
  BACKUP_KEEP_WITHIN_WEEKLY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: emptyMeansUnset(resticDuration()),
    doc: 'Also keep the last snapshot of every week within this duration (--keep-within-weekly), such as "1m".',
  },
  BACKUP_KEEP_WITHIN_MONTHLY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: emptyMeansUnset(resticDuration()),
    doc: 'Also keep the last snapshot of every month within this duration (--keep-within-monthly), such as "1y".',
  },
  BACKUP_KEEP_WITHIN_YEARLY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: emptyMeansUnset(resticDuration()),
    doc: 'Also keep the last snapshot of every year within this duration (--keep-within-yearly), such as "7y".',
  },
  BACKUP_RESTIC_OPTIONS: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: resticOptions(),
    doc:
      "restic's extended options (-o key=value) for every restic call of the profile, separated by spaces. " +
      "sftp.args needs restic 0.17 or newer; with Debian 12's 0.14, put an SFTP server's key, port and " +
      'known_hosts in a Host block of /root/.ssh/config.',
    example: 'sftp.args=-F/etc/restic/ssh.conf',
  },
  BACKUP_ONE_FILE_SYSTEM: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: yesNo(),
    default: 'no',
    doc: 'yes: do not cross file-system boundaries (--one-file-system).',
  },
  BACKUP_HOST: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: hostName(),
    doc:
      "The host name snapshots are saved under (--host) and retention is scoped to. Default: this machine's " +
      'host name. Keep it stable, or old snapshots are never pruned.',
  },
  BACKUP_WARNING_IS_SUCCESS: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: yesNo(),
    default: 'no',
    doc:
      'yes: a backup that saved its snapshot but could not read some files (restic exit 3) counts as success ' +
      '(exit 0) and retention runs; no: it exits with the warning code 6.',
  },
  BACKUP_NETWORK_TIMEOUT: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: timespan(),
    default: '5min',
    doc:
      'How long restic may keep retrying a repository it cannot reach (server down, connection lost during the ' +
      'run, name not resolvable) before the job stops it and fails (exit 13, or 14 for a name that does not ' +
      'resolve), in every job of the profile. restic 0.17 and newer would retry for 15 minutes; 0.14 gives up ' +
      'by itself after about a minute.',
  },
  BACKUP_LOCK_WAIT: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: timespan(),
    default: '1h',
    doc:
      'How long a job waits for another job of the same repository (backup, forget, prune, check) before it ' +
      'fails with exit code 7.',
  },
  BACKUP_METRICS_DIR: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: writableFolder('/var/lib/prometheus/node-exporter'),
    doc:
      'A node_exporter textfile-collector folder: after every run the job writes ' +
      'restic-systemd_<name>_<job>.prom there.',
    example: '/var/lib/prometheus/node-exporter',
  },
  BACKUP_PING_URL: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: httpUrl(),
    doc:
      'Healthchecks-style monitoring of the backup job: <url>/start when a run starts, <url> on success, ' +
      '<url>/fail (with the message) on a warning or failure. A ping that fails is logged and never fails the ' +
      'backup.',
    example: 'https://hc-ping.com/<uuid>',
  },
  BACKUP_MAINTENANCE_SCHEDULE: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: calendar(),
    check: 'calendar',
    default: 'weekly',
    doc:
      'When restic-maintenance@<name>.timer runs restic prune and restic check --read-data-subset: heavier work ' +
      'kept off the hourly job.',
  },
  BACKUP_MAINTENANCE_RANDOMIZED_DELAY: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: timespan(),
    default: '1h',
    doc: 'RandomizedDelaySec= of the maintenance timer.',
  },
  BACKUP_MAINTENANCE_TIMEOUT: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: timespan(),
    default: '12h',
    doc: 'TimeoutStartSec= of restic-maintenance@<name>.service.',
  },
  BACKUP_CHECK_SUBSET: {
    group: 'backup',
    owner: 'restic-systemd',
    parse: dataSubset(),
    default: '5%',
    doc: 'The share of pack files restic check reads back during maintenance (--read-data-subset).',
  },
  PGHOST: {
    group: 'database',
    owner: 'libpq',
    parse: text(),
    doc:
      'libpq: the standby to dump (host name, address or socket folder). Any key starting with PG (a libpq ' +
      'variable or a PG_ key of restic-systemd) switches the pg-backup@ job on.',
    example: '/var/run/postgresql',
  },
  PGPORT: { group: 'database', owner: 'libpq', parse: text(), doc: 'libpq: the port of the standby.', example: '5432' },
  PGUSER: {
    group: 'database',
    owner: 'libpq',
    parse: text(),
    doc: 'libpq: the user to connect as (a superuser, or one granted pg_wal_replay_pause/resume).',
  },
  PGDATABASE: { group: 'database', owner: 'libpq', parse: text(), doc: 'libpq: the database to connect to first.' },
  PGPASSFILE: {
    group: 'database',
    owner: 'libpq',
    parse: absolutePath(),
    secretFile: true,
    doc: 'libpq: a password file (.pgpass format). It must not be readable by group or others (chmod 600).',
  },
  PGPASSWORD: {
    group: 'database',
    owner: 'libpq',
    parse: text(),
    secret: true,
    doc: 'libpq: the database password. Prefer PGPASSFILE; if set, the profile must be chmod 600.',
  },
  PG_BACKUP_SCHEDULE: {
    group: 'database',
    owner: 'restic-systemd',
    parse: calendar(),
    check: 'calendar',
    default: 'daily',
    doc: 'When pg-backup@<name>.timer runs the database dump: a systemd calendar expression.',
  },
  PG_BACKUP_RANDOMIZED_DELAY: {
    group: 'database',
    owner: 'restic-systemd',
    parse: timespan(),
    default: '15min',
    doc: 'RandomizedDelaySec= of the database backup timer.',
  },
  PG_BACKUP_PING_URL: {
    group: 'database',
    owner: 'restic-systemd',
    parse: httpUrl(),
    doc: 'Healthchecks-style pings of the database job, as BACKUP_PING_URL.',
  },
  PG_BACKUP_TIMEOUT: {
    group: 'database',
    owner: 'restic-systemd',
    parse: timespan(),
    default: '6h',
    doc: 'TimeoutStartSec= of pg-backup@<name>.service.',
  },
  PG_BACKUP_KEEP_WITHIN: {
    group: 'database',
    owner: 'restic-systemd',
    parse: resticDuration(),
    default: '7d',
    doc: 'Retention of the database dumps, as restic forget --keep-within.',
  },
  PG_OS_USER: {
    group: 'database',
    owner: 'restic-systemd',
    parse: emptyMeansUnset(hostName()),
    doc:
      "Run psql and pg_dumpall as this system user (through runuser), as the guide's `sudo -u postgres` does, " +
      "for peer authentication on the local socket. Empty: as the job's own user.",
    example: 'postgres',
  },
  PG_ON_PRIMARY: {
    group: 'database',
    owner: 'restic-systemd',
    parse: oneOf('fail', 'skip', 'dump'),
    default: 'fail',
    doc:
      'What to do when the node turns out to be a primary (after a failover): fail (exit 20), skip (exit 0 with ' +
      'a warning, no dump), or dump from the primary without any pause (no cross-database consistency; the ' +
      'snapshot is tagged source:primary).',
  },
  PG_DUMP_FORMAT: {
    group: 'database',
    owner: 'restic-systemd',
    parse: oneOf('directory', 'sql'),
    default: 'directory',
    doc:
      'What the database job stores. directory: while replay is paused, the globals (roles, memberships, ' +
      "tablespaces) and each database's own archive (pg_dump --create in PostgreSQL's directory format, several " +
      'tables at once), all of one replay point, written to a folder in PG_SPOOL_DIR; replay is resumed when the ' +
      'last pg_dump has exited, then restic stores the folder as one snapshot. restic-systemd restore brings back ' +
      'one database, schema or table, under another name if asked, with pg_restore on several cores. sql: one ' +
      'pg_dumpall SQL file, as PG_DUMP_MODE, PG_DUMP_COMPRESSION and PG_SPOOL_COMPRESSION say (restored whole, or ' +
      'one database cut out of it, on one core). docs/benchmarks.md has both measured.',
  },
  PG_DUMP_JOBS: {
    group: 'database',
    owner: 'restic-systemd',
    parse: positiveCount(),
    doc:
      'PG_DUMP_FORMAT=directory: how many tables pg_dump dumps at once (pg_dump --jobs) for a large database; ' +
      "small ones are dumped side by side. Default: this machine's cores. Always bounded by the connections the " +
      'standby has free (each job is one).',
  },
  PG_DUMP_COMPRESSION: {
    group: 'database',
    owner: 'restic-systemd',
    parse: oneOf('none', 'gzip', 'zstd'),
    default: 'none',
    doc:
      'PG_DUMP_FORMAT=sql: how the SQL is compressed before restic: none (restic compresses it itself and ' +
      'deduplicates best: the ' +
      'smallest repository and the fastest backup measured), gzip or zstd (both with --rsyncable; gzip runs as ' +
      'pigz, on every core, when pigz is installed: the same .gz format, and gzip alone limits the dump to one ' +
      "core's speed). The file in the snapshot is postgres-<host>.sql, .sql.gz or .sql.zst.",
  },
  PG_DUMP_MODE: {
    group: 'database',
    owner: 'restic-systemd',
    parse: oneOf('stream', 'spool', 'auto'),
    default: 'stream',
    doc:
      'PG_DUMP_FORMAT=sql: how the dump reaches restic. stream: pg_dumpall writes straight into restic, and ' +
      'replay stays paused ' +
      'until restic has stored the last byte. spool: the dump is written (compressed as PG_SPOOL_COMPRESSION ' +
      'says) to a 0600 file in PG_SPOOL_DIR on disk; replay is resumed as soon as pg_dumpall has finished and ' +
      'the checks held, and restic reads the finished spool (decompressed on the way, so it sees the same SQL). ' +
      'It needs free space for the spool (checked before anything is paused: the size of the databases, twice ' +
      'when uncompressed, plus 5 % of the file system and at least 64 MiB left free for its other users; ' +
      'exit 26) and writes the dump to disk once. auto: spool when that check passes, stream (with a warning) ' +
      'when it does not.',
  },
  PG_SPOOL_COMPRESSION: {
    group: 'database',
    owner: 'restic-systemd',
    parse: oneOf('none', 'zstd'),
    default: 'none',
    doc:
      'How PG_DUMP_MODE=spool writes the spool. none: the SQL as pg_dumpall writes it; nothing competes with ' +
      'pg_dumpall while replay is paused (measured: 1.12x to 1.15x pg_dumpall alone on 2 cores), and the spool ' +
      'takes as much disk as the SQL. zstd: zstd -1 on every core, about half the disk (less for most data), ' +
      'but the compressor takes CPU from pg_dumpall during the pause (1.26x to 1.33x on 2 cores; less with ' +
      'cores to spare). docs/benchmarks.md has both measured.',
  },
  PG_SPOOL_DIR: {
    group: 'database',
    owner: 'restic-systemd',
    parse: writableFolder('/srv/restic-spool'),
    doc:
      'Where the database job writes its dump before restic stores it (PG_DUMP_FORMAT=directory, or ' +
      'PG_DUMP_MODE=spool): a folder on disk (not a RAM file system) that only root can enter; its free space ' +
      'is checked against the size of the databases before anything is paused (exit 26). Default: ' +
      "/var/lib/restic-systemd/spool. Another folder is added to the unit's ReadWritePaths=.",
  },
  PG_DUMP_EXCLUDE_DATABASES: {
    group: 'database',
    owner: 'restic-systemd',
    parse: databasePatterns(),
    default: '',
    doc:
      'Databases the dump leaves out, separated by spaces, as patterns of pg_dumpall --exclude-database (* and ' +
      '?; letters compared in lower case unless double-quoted), e.g. repmgr (its metadata describes the old ' +
      'cluster). template0 and template1 are never dumped as databases of their own.',
  },
  PG_MAX_PAUSE: {
    group: 'database',
    owner: 'restic-systemd',
    parse: timespan(),
    default: '2h',
    doc:
      'The longest WAL replay may stay paused: a dump still running then is stopped, replay resumed, and the ' +
      'run fails (exit 24). Unreplayed WAL piles up on the standby while paused.',
  },
  PG_MAX_REPLAY_LAG: {
    group: 'database',
    owner: 'restic-systemd',
    parse: size(),
    default: '1G',
    doc:
      'Refuse to start (exit 25) when the standby has more received but unreplayed WAL than this: its data is ' +
      'stale.',
  },
  PG_MIN_FREE_WAL_SPACE: {
    group: 'database',
    owner: 'restic-systemd',
    parse: size(),
    default: '1G',
    doc:
      "Refuse to start (exit 25) when the file system of the standby's pg_wal has less free space than this " +
      '(checked when the data directory is on this host): WAL keeps arriving while replay is paused.',
  },
  PG_HA_MANAGER: {
    group: 'database',
    owner: 'restic-systemd',
    parse: oneOf('repmgr', 'patroni', 'none'),
    default: 'repmgr',
    doc:
      'What manages the standby, and so what is held while its replay is paused: repmgr (the local repmgrd is ' +
      "stopped, then started again), patroni (the cluster's maintenance mode is switched on with patronictl " +
      'pause --wait, then off; left on when someone else had switched it on), or none (a plain streaming ' +
      'standby: nothing is held). validate says which one the standby runs. Patroni resumes a paused replay ' +
      'unless its cluster is in maintenance mode: a patroni standby with any other value fails (exit 25).',
  },
  PG_PATRONI_CONFIG: {
    group: 'database',
    owner: 'restic-systemd',
    parse: absolutePath(),
    default: '/etc/patroni/config.yml',
    doc:
      'The Patroni configuration patronictl reads (-c) for PG_HA_MANAGER=patroni: its REST API, ctl and DCS ' +
      "sections. Debian's patroni package names them /etc/patroni/<version>-<cluster>.yml. patronictl runs as " +
      'PG_OS_USER when it is set.',
    example: '/etc/patroni/17-main.yml',
  },
  PG_REPMGRD_STOP_COMMAND: {
    group: 'database',
    owner: 'restic-systemd',
    parse: words(),
    doc:
      'The command that stops the local repmgrd instead of systemctl stop PG_REPMGRD_SERVICE, as words ' +
      'separated by spaces (no shell), for hosts without systemd.',
  },
  PG_REPMGRD_START_COMMAND: {
    group: 'database',
    owner: 'restic-systemd',
    parse: words(),
    doc: 'The command that starts the local repmgrd again, instead of systemctl start PG_REPMGRD_SERVICE.',
  },
  PG_VERIFY_SCHEDULE: {
    group: 'database',
    owner: 'restic-systemd',
    parse: emptyMeansUnset(calendar()),
    check: 'calendar',
    doc:
      'Opt-in restore drill: when set, pg-verify@<name>.timer restores the latest dump into a scratch cluster ' +
      'on this schedule (e.g. weekly) and reports databases, tables and rows. Empty or not set: no timer (run ' +
      'pg-verify by hand).',
    example: 'weekly',
  },
  PG_VERIFY_RANDOMIZED_DELAY: {
    group: 'database',
    owner: 'restic-systemd',
    parse: timespan(),
    default: '1h',
    doc: 'RandomizedDelaySec= of the restore-drill timer.',
  },
  PG_VERIFY_TIMEOUT: {
    group: 'database',
    owner: 'restic-systemd',
    parse: timespan(),
    default: '6h',
    doc: 'TimeoutStartSec= of pg-verify@<name>.service.',
  },
  PG_BINDIR: {
    group: 'database',
    owner: 'restic-systemd',
    parse: absolutePath(),
    doc:
      "Where initdb and pg_ctl are, for the scratch cluster of pg-verify. Default: Debian's folder of the " +
      "dumped server's major version, /usr/lib/postgresql/<major>/bin (the major is recorded with each dump, " +
      'and asked from the server for older dumps).',
  },
  PG_REPMGRD_SERVICE: {
    group: 'database',
    owner: 'restic-systemd',
    parse: serviceName(),
    default: 'repmgrd',
    doc:
      'The local repmgrd service stopped while the standby is paused and started again afterwards ' +
      '(PG_HA_MANAGER=repmgr). Empty: leave repmgrd alone.',
  },
} satisfies Record<string, Field<unknown>>;

export type FieldKey = keyof typeof FIELDS;
type ParsedValue<F> = F extends { parse: (raw: string) => infer T } ? T : never;
type HasDefault<F> = F extends { default: string } ? true : false;

/** The typed values of a profile: keys with a default are always present, others optional. */
export type ProfileValues = {
  [K in FieldKey as HasDefault<(typeof FIELDS)[K]> extends true ? K : never]: ParsedValue<(typeof FIELDS)[K]>;
} & {
  [K in FieldKey as HasDefault<(typeof FIELDS)[K]> extends true ? never : K]?: ParsedValue<(typeof FIELDS)[K]>;
};

export const FIELD_KEYS = Object.keys(FIELDS) as FieldKey[];

export function fieldOf(key: string): Field<unknown> | undefined {
  return (FIELDS as Record<string, Field<unknown>>)[key];
}

/** Prefixes that mark a key as one of restic-systemd's own, so a misspelt one is never passed through. */
export const OWN_PREFIXES = ['BACKUP_', 'PG_', 'NOTIFY_'];

/** Whether a key switches the database job on: libpq's variables and our PG_ keys all start with PG. */
export function isDatabaseKey(key: string): boolean {
  return key.startsWith('PG');
}
