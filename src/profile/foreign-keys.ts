/**
 * Keys that are neither restic-systemd's, restic's nor libpq's. Other tools' layouts keep the
 * backup paths, excludes and retention under keys of their own (RESTIC_BACKUP_PATHS,
 * RETENTION_DAYS, RESTIC_FORGET_ARGS…). Passed through, restic would ignore them and the job would
 * back up /media/<name> for 7 days without a word: such keys are refused, with the way to
 * translate them (`restic-systemd import`). Other keys that look like backup settings, and
 * RESTIC_* names restic does not read, are warnings.
 */

/** What a key of another layout means; `import` translates it. */
export type LayoutMeaning =
  | 'paths'
  | 'excludes'
  | 'retention'
  | 'backup flags'
  | 'tags'
  | 'common flags'
  | 'check flags'
  | 'prune flags'
  | 'repository'
  | 'password'
  | 'schedule'
  | 'host';

interface LayoutKey {
  pattern: RegExp;
  meaning: LayoutMeaning;
  /** Where the key comes from, for messages. */
  origin: string;
}

/** An expression matching exactly the key names these alternatives list. */
const keyNamed = (...alternatives: string[]) => new RegExp(`^(${alternatives.join('|')})$`);

/** The keys of the common layouts (docs/migration.md names each with an example). */
export const LAYOUT_KEYS: readonly LayoutKey[] = [
  {
    pattern:
      /^(RESTIC_BACKUP_PATHS|RESTIC_BACKUP_SOURCE|BACKUP_DIR|BAKPATH|RESTIC_PATHS|FILES_FROM|RESTIC_FILES_FROM)$/,
    meaning: 'paths',
    origin: 'another backup layout',
  },
  {
    pattern: keyNamed(
      'RESTIC_BACKUP_EXCLUDES|BACKUP_EXCLUDES|EXCLUDE|EXCLUDES|RESTIC_EXCLUDE|RESTIC_EXCLUDES',
      'RESTIC_BACKUP_EXCLUDE_FILE|RESTIC_EXCLUDE_FILE',
    ),
    meaning: 'excludes',
    origin: 'another backup layout',
  },
  {
    pattern: keyNamed(
      'RESTIC_RETENTION_POLICY|RESTIC_FORGET_ARGS|RESTIC_KEEP',
      '(RESTIC_)?RETENTION_(HOURS|DAYS|WEEKS|MONTHS|YEARS)',
      'RESTIC_KEEP_(LAST|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY|WITHIN)',
      'KEEP_(LAST|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY|WITHIN)',
      'LAST|DAYS|WEEKS|MONTHS|YEARS',
    ),
    meaning: 'retention',
    origin: 'another backup layout',
  },
  {
    pattern: /^(RESTIC_BACKUP_ARGS|RESTIC_BACKUP_EXTRA_ARGS|RESTIC_FLAGS|RESTIC_OPTIONS|BACKUP_FLAGS|BACKUP_ARGS)$/,
    meaning: 'backup flags',
    origin: 'another backup layout',
  },
  {
    pattern: /^(RESTIC_TAGS|RESTIC_BACKUP_TAG|RESTIC_BACKUP_TAGS|BACKUP_TAG)$/,
    meaning: 'tags',
    origin: 'another backup layout',
  },
  { pattern: /^(RESTIC_COMMON_ARGS)$/, meaning: 'common flags', origin: 'another backup layout' },
  { pattern: /^(RESTIC_CHECK_ARGS)$/, meaning: 'check flags', origin: 'another backup layout' },
  { pattern: /^(RESTIC_PRUNE_ARGS|RESTIC_PRUNE_FLAGS)$/, meaning: 'prune flags', origin: 'another backup layout' },
  { pattern: /^(REPO|REPOSITORY)$/, meaning: 'repository', origin: 'another backup layout' },
  { pattern: /^(PASSWORDFILE|PASSWORD_FILE)$/, meaning: 'password', origin: 'another backup layout' },
  { pattern: /^(CRON_SCHEDULE|BACKUP_CRON)$/, meaning: 'schedule', origin: 'another backup layout' },
  { pattern: /^RESTIC_HOST$/, meaning: 'host', origin: 'restic (0.17 and newer)' },
];

/** The variables restic itself reads (restic 0.14 to 0.19), besides its backends'. */
const RESTIC_VARIABLES = new Set([
  'RESTIC_REPOSITORY',
  'RESTIC_REPOSITORY_FILE',
  'RESTIC_PASSWORD',
  'RESTIC_PASSWORD_FILE',
  'RESTIC_PASSWORD_COMMAND',
  'RESTIC_KEY_HINT',
  'RESTIC_CACHE_DIR',
  'RESTIC_CACERT',
  'RESTIC_TLS_CLIENT_CERT',
  'RESTIC_COMPRESSION',
  'RESTIC_PACK_SIZE',
  'RESTIC_PROGRESS_FPS',
  'RESTIC_READ_CONCURRENCY',
  'RESTIC_FEATURES',
  'RESTIC_HTTP_USER_AGENT',
  'RESTIC_REST_USERNAME',
  'RESTIC_REST_PASSWORD',
  'RESTIC_FROM_REPOSITORY',
  'RESTIC_FROM_REPOSITORY_FILE',
  'RESTIC_FROM_PASSWORD',
  'RESTIC_FROM_PASSWORD_FILE',
  'RESTIC_FROM_PASSWORD_COMMAND',
  'RESTIC_FROM_KEY_HINT',
  'RESTIC_AWS_ASSUME_ROLE_ARN',
  'RESTIC_AWS_ASSUME_ROLE_EXTERNAL_ID',
  'RESTIC_AWS_ASSUME_ROLE_POLICY',
  'RESTIC_AWS_ASSUME_ROLE_REGION',
  'RESTIC_AWS_ASSUME_ROLE_SESSION_NAME',
  'RESTIC_AWS_ASSUME_ROLE_STS_ENDPOINT',
]);

export function isResticVariable(key: string): boolean {
  return RESTIC_VARIABLES.has(key);
}

const LOOKS_LIKE_BACKUP_SETTING = /BACKUP|RETENTION|KEEP|EXCLUDE|INCLUDE|PRUNE|FORGET|SNAPSHOT|REPO|CRON|SCHEDULE/;

const CONSEQUENCE: Record<LayoutMeaning, string> = {
  paths: 'the job would back up BACKUP_PATHS (/media/<name> by default) instead',
  excludes: 'nothing would be excluded',
  retention: 'the job would keep 7 days of snapshots (BACKUP_KEEP_WITHIN) instead',
  'backup flags': 'restic backup would run without them',
  tags: 'the snapshots would not get these tags',
  'common flags': 'restic would run without them',
  'check flags': 'the weekly check would run without them',
  'prune flags': 'the weekly prune would run without them',
  repository: 'restic reads RESTIC_REPOSITORY',
  password: 'restic reads RESTIC_PASSWORD_FILE',
  schedule: 'the job would run on BACKUP_SCHEDULE (hourly by default)',
  host: 'restic-systemd passes --host itself, from BACKUP_HOST',
};

export interface ForeignKeyVerdict {
  level: 'refuse' | 'warn';
  message: string;
}

/** The layout meaning of a key, if it is one of the common layouts'. */
export function layoutMeaning(key: string): LayoutMeaning | undefined {
  return LAYOUT_KEYS.find((entry) => entry.pattern.test(key))?.meaning;
}

/** What to say of a key that is not one of restic-systemd's own fields, if anything. */
export function foreignKeyVerdict(
  key: string,
  profile?: { name: string; file: string },
): ForeignKeyVerdict | undefined {
  const importCommand = profile
    ? `restic-systemd import ${profile.file} --name ${profile.name} --force`
    : 'restic-systemd import <file> --name <name>';
  const meaning = layoutMeaning(key);
  if (meaning === 'host') {
    return { level: 'refuse', message: `${CONSEQUENCE.host}: write BACKUP_HOST=<the same value> instead` };
  }
  if (meaning) {
    return {
      level: 'refuse',
      message:
        `another backup layout's key for ${meaning}: restic-systemd and restic do not read it, so ` +
        `${CONSEQUENCE[meaning]}. ` +
        `Translate the file: ${importCommand} (man restic-systemd: import)`,
    };
  }
  if (key.startsWith('RESTIC_') && !RESTIC_VARIABLES.has(key)) {
    return {
      level: 'warn',
      message:
        'restic reads no variable of this name: it has no effect (the keys restic-systemd reads are in ' +
        'man restic-systemd.conf)',
    };
  }
  if (LOOKS_LIKE_BACKUP_SETTING.test(key)) {
    return {
      level: 'warn',
      message:
        'looks like a backup setting, but neither restic-systemd nor restic reads it: it has no effect ' +
        '(man restic-systemd.conf lists the keys; restic-systemd import translates other layouts)',
    };
  }
  return undefined;
}
