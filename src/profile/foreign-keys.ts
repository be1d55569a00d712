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

/**
 * restic's variables that restic 0.14 (Debian 12's) does not read: the strings of Debian's 0.14.0,
 * 0.18.0 and 0.19.1 binaries compared. With 0.14 they have no effect.
 */
export const NOT_READ_BY_RESTIC_0_14: ReadonlySet<string> = new Set([
  'RESTIC_CACERT',
  'RESTIC_TLS_CLIENT_CERT',
  'RESTIC_READ_CONCURRENCY',
  'RESTIC_FEATURES',
  'RESTIC_HTTP_USER_AGENT',
  'RESTIC_REST_USERNAME',
  'RESTIC_REST_PASSWORD',
  'RESTIC_HOST',
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

const PERIODS: Record<string, string> = {
  LAST: 'last',
  HOURLY: 'hourly',
  HOURS: 'hourly',
  DAILY: 'daily',
  DAYS: 'daily',
  WEEKLY: 'weekly',
  WEEKS: 'weekly',
  MONTHLY: 'monthly',
  MONTHS: 'monthly',
  YEARLY: 'yearly',
  YEARS: 'yearly',
  WITHIN: 'within',
};
const RETENTION_WORDS = new Set(['KEEP', 'KEEPS', 'RETENTION', 'RETAIN', 'FORGET']);
const RETENTION_CONTEXT = new Set(['RESTIC', 'BACKUP', 'BACKUPS', 'SNAPSHOT', 'SNAPSHOTS', 'POLICY', 'NUM', 'COUNT']);

const tokensOf = (key: string) => key.toUpperCase().split('_').filter(Boolean);
const hasToken = (tokens: readonly string[], words: readonly string[]) => tokens.some((token) => words.includes(token));

/**
 * The restic forget rule (daily, within-weekly…) a key of another layout names, when its name is
 * only retention words and one period: KEEP_DAILY, RETENTION_WEEKS, SNAPSHOTS_MONTHLY, RESTIC_KEEP_WITHIN.
 * A name without a retention word (BACKUP_DAILY) names no rule: it may be a time of day or a switch.
 */
export function retentionRuleOf(key: string): string | undefined {
  const tokens = tokensOf(key);
  const periods = tokens.filter((token) => token in PERIODS);
  const others = tokens.filter((token) => !(token in PERIODS));
  const retention = others.some((token) => RETENTION_WORDS.has(token));
  const plain = others.every((token) => ['RESTIC', 'SNAPSHOT', 'SNAPSHOTS'].includes(token));
  if (!retention && !plain) return undefined;
  if (!others.every((token) => RETENTION_WORDS.has(token) || RETENTION_CONTEXT.has(token))) return undefined;
  if (periods.length === 1) return PERIODS[periods[0]!];
  const [first, second] = periods.map((token) => PERIODS[token]!);
  if (periods.length === 2 && first === 'within' && !['within', 'last'].includes(second!)) return `within-${second}`;
  return undefined;
}

/** What a key's name says it decides, for keys no layout lists: the words of its name, split at "_". */
export type KeyTopic = 'retention' | 'excludes' | 'password' | 'repository' | 'schedule' | 'paths';

const TOPIC_WORDS: Array<[KeyTopic, string[]]> = [
  ['excludes', ['EXCLUDE', 'EXCLUDES', 'EXCLUDED', 'EXCLUSION', 'EXCLUSIONS', 'IEXCLUDE']],
  ['password', ['PASSWORD', 'PASSWD', 'PASS', 'PASSPHRASE', 'PASSFILE', 'PASSWORDFILE']],
  ['repository', ['REPO', 'REPOSITORY', 'REPOS']],
  ['schedule', ['SCHEDULE', 'CRON', 'CRONTAB', 'CALENDAR', 'ONCALENDAR', 'INTERVAL', 'FREQUENCY', 'TIMER']],
  [
    'paths',
    [
      'PATH',
      'PATHS',
      'DIR',
      'DIRS',
      'DIRECTORY',
      'DIRECTORIES',
      'SOURCE',
      'SOURCES',
      'SRC',
      'FOLDER',
      'FOLDERS',
      'INCLUDE',
      'INCLUDES',
      'TARGET',
      'TARGETS',
      'LOCATIONS',
    ],
  ],
];

/** What the words of a key's name say it decides: what is kept, excluded, backed up, when, where, which password. */
export function keyTopic(key: string): KeyTopic | undefined {
  const tokens = tokensOf(key);
  if (retentionRuleOf(key) || tokens.some((token) => RETENTION_WORDS.has(token))) return 'retention';
  return TOPIC_WORDS.find(([, words]) => hasToken(tokens, words))?.[0];
}

/** Whether the name of an excludes key says it names files of patterns (EXCLUDE_FILE, EXCLUDES_FROM…). */
export function namesPatternFiles(key: string): boolean {
  return hasToken(tokensOf(key), ['FILE', 'FILES', 'FROM', 'LIST']);
}

// Variables restic's backends read (man restic: "Environment Variables"), and the proxies and TMPDIR of Go.
const BACKEND_PREFIXES = ['AWS_', 'B2_', 'AZURE_', 'GOOGLE_', 'OS_', 'ST_', 'RCLONE_'];
const BACKEND_VARIABLES = new Set([
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'TMPDIR',
  // Go's runtime, which restic is built on
  'GOGC',
  'GOMAXPROCS',
  'GOMEMLIMIT',
  'GODEBUG',
]);

export function isBackendVariable(key: string): boolean {
  return BACKEND_VARIABLES.has(key) || BACKEND_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/** Whether a key is one the common layouts list by name (not only named like one). */
export function isListedLayoutKey(key: string): boolean {
  return LAYOUT_KEYS.some((entry) => entry.pattern.test(key));
}

/** The layout meaning of a key: one of the common layouts', or an excludes or retention key by its name's words. */
export function layoutMeaning(key: string): LayoutMeaning | undefined {
  const listed = LAYOUT_KEYS.find((entry) => entry.pattern.test(key))?.meaning;
  if (listed) return listed;
  const topic = keyTopic(key);
  return topic === 'retention' || topic === 'excludes' ? topic : undefined;
}

/** What to say of a key that is not one of restic-systemd's own fields, if anything. */
export function foreignKeyVerdict(
  key: string,
  profile?: { name: string; file: string },
  env?: Record<string, string>,
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
  if (RESTIC_VARIABLES.has(key) || isBackendVariable(key)) return undefined;
  const value = env?.[key] ?? '';
  const folders = value.split(/\s+/).filter(Boolean);
  if (
    env &&
    keyTopic(key) === 'paths' &&
    folders.length > 0 &&
    folders.every((item) => item.startsWith('/')) &&
    env.BACKUP_PATHS === undefined &&
    env.BACKUP_FILES_FROM === undefined
  ) {
    return {
      level: 'refuse',
      message:
        `names ${folders.join(' ')}, but restic-systemd does not read it, so ${CONSEQUENCE.paths}: if it is ` +
        `what to back up, write BACKUP_PATHS=${value.trim()} (or translate the file: ${importCommand})`,
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
