/**
 * From what an operator has (the variables of their env or shell files, layered in order, and the
 * restic command lines of their units) to a restic-systemd profile that means the same: key by key,
 * each with a decision that says what became of it and why. Decisions that would lose the backup's
 * paths, excludes or retention block the import instead of being dropped. Pure: no file is read
 * or written here.
 */
import path from 'node:path';
import { fieldOf, FIELD_KEYS } from '../profile/fields.js';
import {
  isBackendVariable,
  isListedLayoutKey,
  isResticVariable,
  keyTopic,
  layoutMeaning,
  namesPatternFiles,
  retentionRuleOf,
  type LayoutMeaning,
} from '../profile/foreign-keys.js';
import { forbiddenVariableProblem } from '../profile/programs.js';
import { isSecretKey } from '../profile/secrets.js';
import { cronToCalendar } from './cron.js';
import { monotonicToCalendar } from './monotonic.js';
import {
  DECIDING_FLAG,
  emptySettings,
  holdsResticFlags,
  readResticWords,
  type ResticSettings,
} from './restic-flags.js';
import { expandExecWords } from '../formats/unit-file.js';
import { splitShellWords } from '../formats/shell-words.js';

export interface SourceVariable {
  key: string;
  value: string;
  /** The words of a shell array (KEY=( … )). */
  words?: string[];
  file: string;
  line: number;
}

/** A unit of the operator's that runs restic with this profile's environment. */
export interface UnitSource {
  /** The service as an instance, e.g. restic-backup@home.service. */
  service: string;
  file: string;
  /** Its restic command lines, specifiers expanded. */
  commands: string[];
  /** Its Environment= variables (the files of EnvironmentFile= win over them, as in systemd). */
  environment?: SourceVariable[];
  /** Its timer's schedule, when it has a timer. */
  timer?: {
    file: string;
    onCalendar: string[];
    randomizedDelay?: string;
    /** OnBootSec=, OnUnitActiveSec=…: "OnUnitActiveSec=1d". */
    monotonic?: string[];
  };
}

/** A line of a shell script that runs restic (or dumps a database), which import reads but never runs. */
export interface ScriptCommand {
  file: string;
  line: number;
  command: string;
}

export type Outcome = 'kept' | 'translated' | 'dropped' | 'blocking';

/** What a blocking decision is about: the --set of a key of this topic settles it. */
export type Topic =
  'retention' | 'excludes' | 'paths' | 'schedule' | 'repository' | 'password' | 'database' | 'options';

export interface Decision {
  /** Where it comes from: "file:line KEY", or a unit's command line. */
  from: string;
  outcome: Outcome;
  /** What it became (KEY=value), for kept and translated. */
  to?: string;
  why: string;
  /** For blocking decisions: what they are about. */
  topic?: Topic;
}

export interface Translation {
  /** The profile's keys and values, in the order they are written. */
  entries: Array<[string, string]>;
  decisions: Decision[];
  /** The repository password found inline, to go into a file of its own. */
  password?: string;
  /** --drop values that matched nothing. */
  unusedDrops: string[];
}

export interface TranslateOptions {
  name: string;
  /** Where the password goes when it was inline (the profile names this file). */
  passwordFile: string;
  /** What to back up when the files name nothing (import --path). */
  paths?: string[];
  /** KEY=value given on the command line (import --set): they win, and settle what they cover. */
  set?: Array<[string, string]>;
  /** KEY, FILE or FILE:LINE whose blocking decisions the operator settles by leaving them out (import --drop). */
  drop?: string[];
}

// Keys of tools that wrapped restic: what they did, restic-systemd does itself.
const TOOL_KEYS: Record<string, string> = {
  BINARY: 'restic-systemd runs the restic on PATH (RESTIC_BIN overrides it for a test)',
  RESTIC_BIN: 'restic-systemd runs the restic on PATH (RESTIC_BIN overrides it for a test)',
  CACHE_DIR: 'restic-systemd gives restic a cache folder of its own (/var/cache/restic-systemd)',
  RESTIC_PROFILE: "the profile name is restic-systemd's --name",
};
// Files named by relative paths are taken relative to the folder of the file that names them.
const FILE_KEYS = new Set([
  'RESTIC_PASSWORD_FILE',
  'RESTIC_REPOSITORY_FILE',
  'RESTIC_CACERT',
  'RESTIC_TLS_CLIENT_CERT',
  'GOOGLE_APPLICATION_CREDENTIALS',
]);
const KEEP_TO_KEY: Record<string, string> = {
  last: 'BACKUP_KEEP_LAST',
  hourly: 'BACKUP_KEEP_HOURLY',
  daily: 'BACKUP_KEEP_DAILY',
  weekly: 'BACKUP_KEEP_WEEKLY',
  monthly: 'BACKUP_KEEP_MONTHLY',
  yearly: 'BACKUP_KEEP_YEARLY',
  within: 'BACKUP_KEEP_WITHIN',
  'within-hourly': 'BACKUP_KEEP_WITHIN_HOURLY',
  'within-daily': 'BACKUP_KEEP_WITHIN_DAILY',
  'within-weekly': 'BACKUP_KEEP_WITHIN_WEEKLY',
  'within-monthly': 'BACKUP_KEEP_WITHIN_MONTHLY',
  'within-yearly': 'BACKUP_KEEP_WITHIN_YEARLY',
};
const RESTIC_SUBCOMMANDS = new Set(['backup', 'forget', 'check', 'prune']);
/** How the words after a subcommand are read: backup's are paths; forget's and check's would be IDs. */
const SUBCOMMAND_READING: Record<string, { positional: 'paths' | 'unknown'; group: Group; what: string }> = {
  backup: { positional: 'paths', group: 'backup', what: 'restic backup' },
  forget: { positional: 'unknown', group: 'forget', what: 'the retention' },
  check: { positional: 'unknown', group: 'check', what: 'the check' },
};
// restic's global flags that take a value, to find the subcommand of a command line.
const GLOBAL_WITH_VALUE = new Set([
  '-r',
  '--repo',
  '--repository-file',
  '-p',
  '--password-file',
  '--password-command',
  '--cache-dir',
  '-o',
  '--option',
  '--key-hint',
  '--limit-upload',
  '--limit-download',
  '--pack-size',
  '--compression',
  '--tls-client-cert',
  '--cacert',
]);

class Translator {
  readonly out = new Map<string, { value: string; from: string }>();
  /** Variables that command lines substitute: what they say is translated there. */
  readonly used = new Set<string>();
  readonly decisions: Decision[] = [];
  readonly backup = emptySettings();
  readonly forget = emptySettings();
  readonly check = emptySettings();
  readonly common = emptySettings();
  /** What the --set options settle: a blocking decision of these meanings is resolved by them. */
  settled = new Set<LayoutMeaning>();

  decide(from: string, outcome: Outcome, why: string, to?: string): void {
    this.decisions.push({ from, outcome, why, ...(to !== undefined ? { to } : {}) });
  }

  /** A decision the operator must settle: with --set of the topic's keys, or --drop of `what`. */
  block(from: string, topic: Topic, why: string, what?: string): void {
    const settle = [SETTLING_EXAMPLE[topic], ...(what ? [`--drop ${what} if it does not matter`] : [])];
    this.decisions.push({ from, outcome: 'blocking', topic, why: `${why}. Settle it: ${settle.join(', or ')}` });
  }

  put(key: string, value: string, from: string, outcome: Outcome, why: string): void {
    this.out.set(key, { value, from });
    this.decide(from, outcome, why, `${key}=${value}`);
  }
}

const SETTLING_EXAMPLE: Record<Topic, string> = {
  retention: '--set BACKUP_KEEP_DAILY=… (the rules the old setup kept)',
  excludes: '--set BACKUP_EXCLUDE=… or --set BACKUP_EXCLUDE_FILE=…',
  paths: '--set BACKUP_PATHS=… (what the old setup backed up)',
  schedule: '--set BACKUP_SCHEDULE=… (a systemd calendar expression)',
  repository: '--set RESTIC_REPOSITORY=…',
  password: '--set RESTIC_PASSWORD_FILE=…',
  database: '--set PGHOST=… (and the other keys of the database job, docs/database-job.md)',
  options: "--set BACKUP_RESTIC_OPTIONS='…'",
};
/** The --set keys that settle each topic. */
const SETTLED_BY: Record<Topic, RegExp> = {
  retention: /^BACKUP_KEEP_/,
  excludes: /^BACKUP_(I?EXCLUDE|EXCLUDE_FILE)/,
  paths: /^BACKUP_(PATHS|FILES_FROM)$/,
  schedule: /^BACKUP_SCHEDULE$/,
  repository: /^RESTIC_REPOSITORY/,
  password: /^RESTIC_PASSWORD/,
  database: /^PG/,
  options: /^BACKUP_RESTIC_OPTIONS$/,
};
// Variables of the session or of systemd's units that restic-systemd's units set themselves.
const RUNTIME_VARIABLES = /^(HOME|USER|LOGNAME|SHELL|PWD|TERM|LANG|LANGUAGE|TZ|LC_\w+|XDG_\w+|SYSTEMD_\w+)$/;
// A switch's value: a key that turns something off excluded or kept nothing.
const SWITCH_OFF = /^(false|no|off)$/i;
const SWITCH_ON = /^(true|yes|on)$/i;
// Names of unknown keys that hold a path of another kind than what to back up.
const UNRELATED_PATH_WORDS =
  /(^|_)(LOG|LOGFILE|LOGS|CACHE|TMP|TEMP|TMPDIR|PID|LOCK|SOCKET|SOCK|SCRIPT|HOOK|BIN|CERT)(_|$)/;

const where = (variable: SourceVariable) => `${variable.file}:${variable.line} ${variable.key}`;
const wordsOf = (variable: SourceVariable) => variable.words ?? splitShellWords(variable.value);

/** An absolute path for a file the variable names, relative ones taken from the variable's file's folder. */
function absoluteFile(value: string, variable: SourceVariable): string {
  return value.startsWith('/') ? value : path.posix.join(path.posix.dirname(variable.file), value);
}

function translateVariable(t: Translator, variable: SourceVariable): void {
  const { key, value } = variable;
  const from = where(variable);
  // Files named relatively were found from the folder of the file that names them.
  if (FILE_KEYS.has(key) && value !== '' && !value.startsWith('/')) {
    return t.put(
      key,
      absoluteFile(value, variable),
      from,
      'translated',
      `a relative path, taken from the folder of ${variable.file}: check it is the file the old setup read`,
    );
  }
  const field = fieldOf(key);
  if (field) {
    const joined = variable.words ? variable.words.join(' ') : value;
    if (key === 'BACKUP_PATHS') {
      const relative = splitShellWords(joined).filter((item) => !item.startsWith('/'));
      if (relative.length > 0)
        return t.decide(
          from,
          'blocking',
          `${relative.join(', ')}: a backup path must be absolute (a relative one depends on the folder the ` +
            `old script ran in); write it from / in the file, or give --path`,
        );
    }
    const own =
      field.owner === 'restic'
        ? "restic's own variable, passed to restic as before"
        : field.owner === 'libpq'
          ? "libpq's own variable"
          : "restic-systemd's own key, the same meaning";
    return t.put(
      key,
      joined,
      from,
      'kept',
      variable.words ? `${own}; the shell array's words joined with spaces` : own,
    );
  }
  if (key === 'RESTIC_HOST')
    return t.put('BACKUP_HOST', value, from, 'translated', 'restic-systemd passes --host itself, from BACKUP_HOST');
  if (TOOL_KEYS[key]) return t.decide(from, 'dropped', TOOL_KEYS[key]);
  if (key === 'B2_CONNECTIONS' && value !== '') {
    // restic reads no such variable: erikw's restic_backup.sh passes it as -o b2.connections=….
    const local = emptySettings();
    local.options.push(`b2.connections=${value}`);
    return contribute(
      t,
      from,
      local,
      'common',
      "restic's b2.connections option, as restic_backup.sh of erikw's layout passed it",
    );
  }
  const forbidden = forbiddenVariableProblem(key);
  if (forbidden) return t.decide(from, 'blocking', `${key} ${forbidden}`);
  const meaning = layoutMeaning(key);
  if (meaning) return translateLayoutKey(t, variable, meaning);
  if (value === '') return t.decide(from, 'dropped', 'empty: it set nothing');
  if (isResticVariable(key)) {
    return t.put(key, value, from, 'kept', "restic's own variable, passed to restic as before");
  }
  if (isBackendVariable(key)) return t.put(key, value, from, 'kept', "a variable of restic's backends, as before");
  if (/^PG[A-Z]+$/.test(key)) return t.put(key, value, from, 'kept', "libpq's variable, as before");
  if (holdsResticFlags(wordsOf(variable))) {
    // Whatever its name, a value of restic flags is read as the flags of a command line are.
    const local = readResticWords(wordsOf(variable), emptySettings(), 'unknown');
    return contributeFlags(t, from, local, path.posix.dirname(variable.file));
  }
  translateUnknownKey(t, variable);
}

/** A key no layout lists: what its name and value say it decides, or nothing restic-systemd needs. */
function translateUnknownKey(t: Translator, variable: SourceVariable): void {
  const { key, value } = variable;
  const from = where(variable);
  const words = wordsOf(variable);
  const folders = words.length > 0 && words.every((word) => word.startsWith('/'));
  const tokens = key.split('_').filter((token) => !['RESTIC', 'BACKUP', 'REPO', 'REPOSITORY'].includes(token));
  switch (keyTopic(key)) {
    case 'password': {
      // Only a name of the repository's password: an SMTP_PASSWORD is another program's secret.
      if (!tokens.every((token) => /^(PASS|PASSWORD|PASSWD|PASSPHRASE|PASSFILE|PASSWORDFILE|FILE|PATH)$/.test(token)))
        break;
      if (t.out.has('RESTIC_PASSWORD') || t.out.has('RESTIC_PASSWORD_FILE') || t.out.has('RESTIC_PASSWORD_COMMAND'))
        return t.decide(from, 'dropped', "restic reads RESTIC_PASSWORD*, which the files set too: it was not restic's");
      if (/FILE|PATH/.test(key) && folders)
        return t.put('RESTIC_PASSWORD_FILE', absoluteFile(value, variable), from, 'translated', 'the password file');
      return t.put('RESTIC_PASSWORD', value, from, 'translated', "the repository's password, by its name");
    }
    case 'repository':
      if (!/^(\/|[a-z0-9]+:)/.test(value)) break;
      if (t.out.has('RESTIC_REPOSITORY') && t.out.get('RESTIC_REPOSITORY')!.value !== value)
        return t.block(from, 'repository', `a second repository (${value})`, key);
      return t.put('RESTIC_REPOSITORY', value, from, 'translated', 'the repository, by its name');
    case 'schedule': {
      const calendar = cronToCalendar(value);
      if (calendar)
        return t.put('BACKUP_SCHEDULE', calendar, from, 'translated', `the cron schedule "${value}", by its name`);
      return t.block(from, 'schedule', `"${value}" looks like the schedule, in a form import does not read`, key);
    }
    case 'paths':
      if (folders && !UNRELATED_PATH_WORDS.test(key))
        return t.block(from, 'paths', `names ${words.join(' ')}: it may be what the old setup backed up`, key);
      break;
  }
  if (isSecretKey(key))
    return t.decide(from, 'dropped', "another program's secret: restic reads no such variable, so it is left out");
  if (RUNTIME_VARIABLES.test(key))
    return t.decide(from, 'dropped', "the session's variable: restic-systemd's units run as root, with root's");
  if (folders && !UNRELATED_PATH_WORDS.test(key) && !key.startsWith('PG'))
    return t.block(from, 'paths', `names ${words.join(' ')}: it may be what the old setup backed up`, key);
  t.decide(
    from,
    'dropped',
    "not read by restic, its backends or restic-systemd (another tool's or a script's variable): left out",
  );
}

type Group = 'backup' | 'forget' | 'check' | 'common';

/** The profile keys a group of settings makes, with their values. */
function settingsKeys(settings: ResticSettings, group: Group): Array<[string, string]> {
  const keys: Array<[string, string | undefined]> = [];
  const list = (values: readonly string[]) => (values.length > 0 ? [...new Set(values)].join(' ') : undefined);
  if (group === 'backup') {
    keys.push(
      ['BACKUP_PATHS', list(settings.paths)],
      ['BACKUP_EXCLUDE', list(settings.excludes)],
      ['BACKUP_IEXCLUDE', list(settings.iexcludes)],
      ['BACKUP_EXCLUDE_FILE', list(settings.excludeFiles)],
      ['BACKUP_EXCLUDE_IF_PRESENT', list(settings.excludeIfPresent)],
      ['BACKUP_EXCLUDE_CACHES', settings.excludeCaches ? 'yes' : undefined],
      ['BACKUP_EXCLUDE_LARGER_THAN', settings.excludeLargerThan],
      ['BACKUP_FILES_FROM', list(settings.filesFrom)],
      ['BACKUP_TAGS', list(settings.tags)],
      ['BACKUP_HOST', settings.host],
      ['BACKUP_ONE_FILE_SYSTEM', settings.oneFileSystem ? 'yes' : undefined],
    );
  }
  if (group === 'forget')
    for (const [rule, value] of Object.entries(settings.keep)) keys.push([KEEP_TO_KEY[rule]!, value]);
  if (group === 'check') keys.push(['BACKUP_CHECK_SUBSET', settings.checkSubset]);
  keys.push(['BACKUP_RESTIC_OPTIONS', list(settings.options)]);
  return keys.filter((entry): entry is [string, string] => entry[1] !== undefined);
}

function mergeSettings(into: ResticSettings, from: ResticSettings): void {
  for (const key of [
    'paths',
    'excludes',
    'iexcludes',
    'excludeFiles',
    'excludeIfPresent',
    'filesFrom',
    'tags',
    'options',
    'cosmetic',
    'unknown',
  ] as const)
    into[key].push(...from[key]);
  Object.assign(into.keep, from.keep);
  into.excludeCaches ||= from.excludeCaches;
  into.oneFileSystem ||= from.oneFileSystem;
  into.prune ||= from.prune;
  into.excludeLargerThan = from.excludeLargerThan ?? into.excludeLargerThan;
  into.host = from.host ?? into.host;
  into.checkSubset = from.checkSubset ?? into.checkSubset;
}

/** What one source (a variable, a unit's command line) says, merged into its group, with its own decisions. */
function contribute(t: Translator, from: string, local: ResticSettings, group: Group, what: string, base = '/'): void {
  // Files named relatively are found from the folder the old setup ran in: the file's, or / for a unit.
  for (const key of ['excludeFiles', 'filesFrom'] as const) {
    const relative = local[key].filter((item) => !item.startsWith('/'));
    if (relative.length === 0) continue;
    local[key] = local[key].map((item) => (item.startsWith('/') ? item : path.posix.join(base, item)));
    t.decide(
      from,
      'translated',
      `${relative.join(', ')}: a relative file, taken from ${base}: check it is the file the old setup read`,
    );
  }
  const relative = group === 'backup' ? local.paths.filter((item) => !item.startsWith('/')) : [];
  if (relative.length > 0) {
    t.decide(
      from,
      'blocking',
      `${relative.join(', ')}: a backup path must be absolute (a relative one depends on the folder the old ` +
        `script ran in); write it from / in the source, or give --path`,
    );
    local.paths = local.paths.filter((item) => item.startsWith('/'));
  }
  const spaced = [...local.paths, ...local.excludes, ...local.iexcludes].filter((item) => /\s/.test(item));
  if (spaced.length > 0) {
    t.decide(
      from,
      'blocking',
      `${spaced.map((item) => `"${item}"`).join(', ')}: a path or pattern with a space cannot be a word of ` +
        `BACKUP_PATHS or BACKUP_EXCLUDE; list it in a file (BACKUP_FILES_FROM, BACKUP_EXCLUDE_FILE)`,
    );
    for (const key of ['paths', 'excludes', 'iexcludes'] as const)
      local[key] = local[key].filter((item) => !/\s/.test(item));
  }
  const spacedOptions = local.options.filter((option) => /\s/.test(option));
  if (spacedOptions.length > 0) {
    t.block(
      from,
      'options',
      `${spacedOptions.map((option) => `-o "${option}"`).join(', ')}: an option whose value holds spaces cannot be ` +
        'a word of BACKUP_RESTIC_OPTIONS (for sftp.args, put the ssh options in a file: ' +
        'sftp.args=-F/etc/restic/ssh.conf)',
      dropTarget(from),
    );
    local.options = local.options.filter((option) => !/\s/.test(option));
  }
  for (const [key, value] of Object.entries(local.variables)) {
    const file = /_FILE$|_CERT$|CACERT$/.test(key) && !value.startsWith('/') ? path.posix.join(base, value) : value;
    t.put(key, file, from, 'translated', `restic's flag for ${key}, as its variable`);
  }
  const keys = settingsKeys(local, group);
  if (keys.length > 0) t.decide(from, 'translated', what, keys.map(([key, value]) => `${key}=${value}`).join(', '));
  if (local.unknown.length > 0) {
    const deciding = group === 'forget' ? local.unknown : local.unknown.filter((word) => DECIDING_FLAG.test(word));
    const other = local.unknown.filter((word) => !deciding.includes(word));
    if (deciding.length > 0) {
      const topic: Topic =
        group === 'forget' || deciding.some((word) => /^--keep-/.test(word))
          ? 'retention'
          : deciding.some((word) => /exclude/.test(word))
            ? 'excludes'
            : 'paths';
      t.block(
        from,
        topic,
        `${topic === 'retention' ? 'retention' : 'backup'} flags restic-systemd cannot express: ` +
          `${deciding.join(' ')}. Without them the ${topic === 'retention' ? 'retention' : 'backup'} would differ`,
        dropTarget(from),
      );
    }
    if (other.length > 0)
      t.decide(
        from,
        'dropped',
        `${group === 'common' ? 'global' : group} flags restic-systemd has no key for: ${other.join(' ')}`,
      );
  }
  if (local.cosmetic.length > 0)
    t.decide(from, 'dropped', `only change what restic prints: ${[...new Set(local.cosmetic)].join(' ')}`);
  if (group === 'forget' && (local.tags.length > 0 || local.host)) {
    t.decide(
      from,
      'translated',
      `forget selected ${[...local.tags.map((tag) => `tag ${tag}`), ...(local.host ? [`host ${local.host}`] : [])].join(
        ', ',
      )}; ` +
        "restic-systemd's retention selects this profile's own backups (tags profile:<name>,job:backup on this host)",
    );
  }
  if (local.prune) t.decide(from, 'translated', 'forget --prune: the weekly maintenance job prunes');
  if (local.groupBy !== undefined)
    t.decide(
      from,
      'translated',
      `forget --group-by ${local.groupBy}: restic-systemd applies the rules to this profile's snapshots of ` +
        `this host as one group, which keeps the same snapshots as long as BACKUP_PATHS stays as it is`,
    );
  mergeSettings(t[group], { ...local, unknown: [], cosmetic: [] });
}

/** The variable a decision is about, when its source is one ("file:line KEY", as where() writes it). */
function variableOf(from: string): string | undefined {
  return /^\S+:\d+ ([A-Za-z_]\w*)$/.exec(from)?.[1];
}

/** What to name in --drop for a decision's source: the key of a variable, else the file (and line) it is on. */
function dropTarget(from: string): string {
  return variableOf(from) ?? /^(\S+)/.exec(from)![1]!.replace(/:$/, '');
}

/** A value of restic flags of any command (backup, forget, check, global), each kind to its own settings. */
function contributeFlags(t: Translator, from: string, local: ResticSettings, base: string): void {
  const forgets = Object.keys(local.keep).length > 0 || local.prune === true || local.groupBy !== undefined;
  const none = emptySettings();
  const backup: ResticSettings = {
    ...local,
    keep: {},
    unknown: forgets ? [] : local.unknown,
    tags: forgets ? [] : local.tags,
    checkSubset: undefined,
    groupBy: undefined,
    prune: undefined,
    ...(forgets ? { host: undefined } : {}),
  };
  contribute(t, from, backup, 'backup', "restic's flags, read from the value", base);
  if (forgets)
    contribute(
      t,
      from,
      {
        ...none,
        keep: local.keep,
        unknown: local.unknown,
        tags: local.tags,
        host: local.host,
        prune: local.prune,
        groupBy: local.groupBy,
      },
      'forget',
      "the retention (restic forget's --keep rules), read from the value",
    );
  if (local.checkSubset !== undefined)
    contribute(t, from, { ...none, checkSubset: local.checkSubset }, 'check', 'the weekly check');
}

function translateLayoutKey(t: Translator, variable: SourceVariable, meaning: LayoutMeaning): void {
  const { key, value } = variable;
  const from = where(variable);
  const words = wordsOf(variable);
  if (words.length === 0)
    return t.decide(from, 'dropped', meaning === 'retention' ? 'empty: it set no rule' : 'empty: it set nothing');
  if (SWITCH_OFF.test(value.trim()))
    return t.decide(from, 'dropped', `a switch of another tool, turned off: it set nothing`);
  if (SWITCH_ON.test(value.trim()))
    return t.block(
      from,
      meaning === 'retention' ? 'retention' : meaning === 'excludes' ? 'excludes' : 'paths',
      `a switch of another tool, turned on (${value.trim()}): what it did is not a restic flag import can read`,
      key,
    );
  const local = emptySettings();
  switch (meaning) {
    case 'paths':
      if (/FILES_FROM/.test(key)) {
        local.filesFrom.push(...words);
      } else if (
        words.length === 1 &&
        words[0]!.includes(':') &&
        words[0]!.split(':').every((item) => item.startsWith('/'))
      ) {
        // erikw's restic_backup.sh splits RESTIC_BACKUP_PATHS on ":".
        local.paths.push(...words[0]!.split(':'));
        t.decide(
          from,
          'translated',
          'a ":"-separated list of paths (as restic_backup.sh of erikw\'s layout reads it), split into paths',
        );
      } else {
        local.paths.push(...words);
      }
      return contribute(t, from, local, 'backup', 'what to back up', path.posix.dirname(variable.file));
    case 'excludes':
      if (words.some((word) => word.startsWith('-'))) readResticWords(words, local, 'paths');
      else if (namesPatternFiles(key)) local.excludeFiles.push(...words);
      else local.excludes.push(...words);
      return contribute(t, from, local, 'backup', 'what to leave out', path.posix.dirname(variable.file));
    case 'retention': {
      const rule = retentionRuleOf(key);
      if (rule && KEEP_TO_KEY[rule] && words.length === 1 && !words[0]!.startsWith('-')) {
        local.keep[rule] = words[0]!;
        // A layout's own name (RETENTION_DAYS, KEEP_DAILY) needs no word on how it was read.
        if (!isListedLayoutKey(key) && !/KEEP_/.test(key))
          t.decide(from, 'translated', `read as restic forget --keep-${rule} ${words[0]}, by the words of its name`);
      } else readResticWords(words, local, 'unknown');
      return contribute(t, from, local, 'forget', "the retention (restic forget's --keep rules)");
    }
    case 'backup flags':
      readResticWords(words, local, 'paths');
      return contribute(t, from, local, 'backup', "restic backup's flags", path.posix.dirname(variable.file));
    case 'tags':
      if (words.some((word) => word.startsWith('-'))) readResticWords(words, local, 'unknown');
      else local.tags.push(...words);
      return contribute(t, from, local, 'backup', 'the tags of every snapshot');
    case 'common flags':
      readResticWords(words, local, 'unknown');
      return contribute(t, from, local, 'common', "restic's options, on every call");
    case 'check flags':
      readResticWords(words, local, 'unknown');
      return contribute(t, from, local, 'check', 'the weekly check');
    case 'prune flags':
      return t.decide(
        from,
        'dropped',
        `the weekly maintenance job prunes (restic prune, which takes no --keep rules): the retention comes ` +
          `from the forget rules (dropped: ${words.join(' ')})`,
      );
    case 'repository':
      return t.put('RESTIC_REPOSITORY', value, from, 'translated', "restic's own name for the repository");
    case 'password':
      return t.put(
        'RESTIC_PASSWORD_FILE',
        absoluteFile(value, variable),
        from,
        'translated',
        "restic's own name for the password file",
      );
    case 'schedule': {
      const calendar = cronToCalendar(value);
      if (!calendar)
        return t.block(
          from,
          'schedule',
          `"${value}" has no exact systemd calendar equivalent (man systemd.time), and the default is hourly`,
          key,
        );
      return t.put(
        'BACKUP_SCHEDULE',
        calendar,
        from,
        'translated',
        `the cron schedule "${value}" as a systemd calendar expression`,
      );
    }
    case 'host':
      return t.put('BACKUP_HOST', value, from, 'translated', 'restic-systemd passes --host itself, from BACKUP_HOST');
  }
}

/** The restic subcommand of a command line and its words, when the line runs restic itself. */
function resticInvocation(
  words: readonly string[],
): { subcommand: string; words: string[]; globals: string[]; wrapper?: string } | undefined {
  // restic itself, or a wrapper named after it that is given restic's own subcommand and flags.
  const start = words.findIndex(
    (word, index) =>
      path.posix.basename(word) === 'restic' ||
      (/restic/.test(path.posix.basename(word)) && RESTIC_SUBCOMMANDS.has(words[index + 1] ?? '')),
  );
  if (start < 0) return undefined;
  const globals: string[] = [];
  for (let index = start + 1; index < words.length; index++) {
    const word = words[index]!;
    if (!word.startsWith('-')) {
      const program = path.posix.basename(words[start]!);
      return {
        subcommand: word,
        words: words.slice(index + 1),
        globals,
        ...(program !== 'restic' ? { wrapper: program } : {}),
      };
    }
    globals.push(word);
    if (GLOBAL_WITH_VALUE.has(word)) globals.push(words[++index] ?? '');
  }
  return undefined;
}

/** One command line (a unit's Exec line, a script's line): what it passes to restic, or what it runs instead. */
function translateCommand(
  t: Translator,
  from: string,
  command: string,
  environment: ReadonlyMap<string, string>,
  base: string,
  source: 'unit' | 'script',
): void {
  // Variables of the files given, as systemd substitutes them from the unit's EnvironmentFile=.
  const expanded = expandExecWords(splitShellWords(command), environment);
  for (const name of command.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) t.used.add(name[1]!);
  if (/(^|[\s|;&/])(pg_dump|pg_dumpall|pg_basebackup)(\s|$)/.test(command))
    return t.block(
      from,
      'database',
      "dumps PostgreSQL (into restic, or into a file a backup picks up): restic-systemd's database job " +
        'does this from a paused standby (pg-backup@<name>.timer), with its own keys',
      dropTarget(from),
    );
  // `sh -c '…'` (a unit's way to run several commands): each command of the script on its own.
  const [shell, flag, script] = splitShellWords(command);
  if (shell && /^(sh|bash|dash)$/.test(path.posix.basename(shell)) && flag === '-c' && script !== undefined) {
    const head = from.endsWith(command) ? from.slice(0, -command.length) : `${from}: `;
    const parts = script.split(/&&|\|\||;|\n/).map((item) => item.trim());
    for (const part of parts.filter(Boolean)) translateCommand(t, `${head}${part}`, part, environment, base, source);
    return;
  }
  if (expanded.unset.length > 0)
    t.decide(
      from,
      'dropped',
      `${expanded.unset.map((name) => `$${name}`).join(', ')}: not set in the files given, read as empty ` +
        `(as systemd would); if the unit reads another file, give it to import too`,
    );
  const invocation = resticInvocation(expanded.words);
  if (!invocation) {
    t.decide(
      from,
      'dropped',
      'runs a script or another tool, whose settings restic-systemd cannot read: carry over by hand what it ' +
        'passes to restic (man restic-systemd: import)',
    );
    return;
  }
  if (invocation.wrapper)
    t.decide(
      from,
      'translated',
      `${invocation.wrapper} is named after restic and given restic's ${invocation.subcommand}: its words are ` +
        'read as ' +
        "restic's (check that the wrapper passes them on as they are)",
    );
  if (invocation.globals.length > 0)
    contribute(
      t,
      from,
      readResticWords(invocation.globals, emptySettings(), 'unknown'),
      'common',
      "restic's options, on every call",
      base,
    );
  const read = SUBCOMMAND_READING[invocation.subcommand];
  if (read) {
    const local = readResticWords(invocation.words, emptySettings(), read.positional);
    contribute(t, from, local, read.group, `${read.what} of the ${source}`, base);
  } else if (invocation.subcommand === 'prune') {
    t.decide(from, 'translated', "restic-systemd's weekly maintenance job prunes (restic-maintenance@<name>.timer)");
  } else {
    t.decide(from, 'dropped', `restic ${invocation.subcommand} is not a job of restic-systemd`);
  }
}

function translateUnit(t: Translator, unit: UnitSource, environment: ReadonlyMap<string, string>): void {
  for (const command of unit.commands)
    translateCommand(t, `${unit.file} (${unit.service}): ${command}`, command, environment, '/', 'unit');
  if (!unit.timer) return;
  const from = `${unit.timer.file}`;
  const monotonic = unit.timer.monotonic ?? [];
  if (unit.timer.onCalendar.length === 1 && monotonic.length === 0)
    t.put('BACKUP_SCHEDULE', unit.timer.onCalendar[0]!, from, 'translated', "the timer's OnCalendar=");
  else if (unit.timer.onCalendar.length > 1)
    t.block(
      from,
      'schedule',
      `several OnCalendar= (${unit.timer.onCalendar.join('; ')}): BACKUP_SCHEDULE takes one expression`,
      from,
    );
  else if (monotonic.length > 0) {
    const calendar = monotonicToCalendar(monotonic);
    if (calendar && unit.timer.onCalendar.length === 0)
      t.put(
        'BACKUP_SCHEDULE',
        calendar,
        from,
        'translated',
        `${monotonic.join(', ')} (a period after the last run) as the calendar expression of the same period: ` +
          'the runs now happen at fixed times',
      );
    else
      t.block(
        from,
        'schedule',
        `${[...monotonic, ...unit.timer.onCalendar.map((value) => `OnCalendar=${value}`)].join(', ')}: a ` +
          'monotonic schedule with no calendar expression of the same period',
        from,
      );
  }
  if (unit.timer.randomizedDelay)
    t.put('BACKUP_RANDOMIZED_DELAY', unit.timer.randomizedDelay, from, 'translated', "the timer's RandomizedDelaySec=");
}

/** The merged settings as the profile's keys (each source has said what it gave already). */
function settleSettings(t: Translator): void {
  const set = (key: string, value: string) => t.out.set(key, { value, from: 'flags' });
  for (const group of ['backup', 'forget', 'check'] as const) {
    for (const [key, value] of settingsKeys(t[group], group)) if (key !== 'BACKUP_RESTIC_OPTIONS') set(key, value);
  }
  const options = [...new Set([...t.common.options, ...t.backup.options, ...t.forget.options, ...t.check.options])];
  if (options.length > 0) set('BACKUP_RESTIC_OPTIONS', options.join(' '));
  // The default rule (7 days) must not be added to the rules imported.
  if (Object.keys(t.forget.keep).length > 0 && !('within' in t.forget.keep) && !t.out.has('BACKUP_KEEP_WITHIN')) {
    t.put(
      'BACKUP_KEEP_WITHIN',
      '',
      '(the retention rules above)',
      'translated',
      'the imported rules replace the default (keep 7 days)',
    );
  }
}

/** restic's order: a password command, else a password file, else RESTIC_PASSWORD. */
function settlePassword(t: Translator, options: TranslateOptions): string | undefined {
  const inline = t.out.get('RESTIC_PASSWORD');
  const file = t.out.get('RESTIC_PASSWORD_FILE');
  const command = t.out.get('RESTIC_PASSWORD_COMMAND');
  if (command && file) {
    t.decide(
      file.from,
      'blocking',
      'RESTIC_PASSWORD_COMMAND and RESTIC_PASSWORD_FILE are both set, which restic refuses, so the old setup ' +
        'could not have run: remove one of them from the files and import again',
    );
  }
  if (inline && (command || file)) {
    t.out.delete('RESTIC_PASSWORD');
    t.decide(
      inline.from,
      'dropped',
      `restic reads ${command ? 'RESTIC_PASSWORD_COMMAND' : 'RESTIC_PASSWORD_FILE'} before RESTIC_PASSWORD, ` +
        `so this value was never used`,
    );
    return undefined;
  }
  if (inline) {
    t.out.delete('RESTIC_PASSWORD');
    t.out.set('RESTIC_PASSWORD_FILE', { value: options.passwordFile, from: inline.from });
    t.decide(
      inline.from,
      'translated',
      `moved into ${options.passwordFile} (mode 0600): a profile holds no password`,
      `RESTIC_PASSWORD_FILE=${options.passwordFile}`,
    );
    return inline.value;
  }
  return undefined;
}

/** The order keys are written in: the repository and password first, then the model's order, then the rest as found. */
function ordered(out: Translator['out']): Array<[string, string]> {
  const rank = (key: string) => {
    const index = FIELD_KEYS.indexOf(key as (typeof FIELD_KEYS)[number]);
    return index >= 0 ? index : FIELD_KEYS.length;
  };
  return [...out.entries()]
    .map(([key, entry]): [string, string] => [key, entry.value])
    .sort((a, b) => rank(a[0]) - rank(b[0]));
}

export function translate(
  variables: readonly SourceVariable[],
  units: readonly UnitSource[],
  options: TranslateOptions,
  scripts: readonly ScriptCommand[] = [],
  readings: readonly Decision[] = [],
): Translation {
  const t = new Translator();
  // What the readers said comes first, and is settled by --set and --drop as the rest is.
  t.decisions.push(...readings);
  // systemd: the files of EnvironmentFile= win over the unit's Environment= lines.
  const fromFiles = new Set(variables.map((variable) => variable.key));
  const unitVariables = units
    .flatMap((unit) => unit.environment ?? [])
    .filter((variable) => !fromFiles.has(variable.key));
  const all = [...unitVariables, ...variables];
  for (const variable of all) translateVariable(t, variable);
  const environment = new Map(
    all.map((variable) => [variable.key, variable.words ? variable.words.join(' ') : variable.value]),
  );
  for (const unit of units) translateUnit(t, unit, environment);
  for (const script of scripts)
    translateCommand(
      t,
      `${script.file}:${script.line}: ${script.command}`,
      script.command,
      environment,
      path.posix.dirname(script.file),
      'script',
    );
  settleSettings(t);
  if (options.paths && options.paths.length > 0)
    t.put('BACKUP_PATHS', options.paths.join(' '), '--path', 'translated', 'given on the command line');
  for (const [key, value] of options.set ?? [])
    t.put(key, value, `--set ${key}`, 'translated', 'given on the command line');
  const setKeys = new Set((options.set ?? []).map(([key]) => key));
  // Rules given with --set replace the default (keep 7 days) as imported ones do.
  if ([...setKeys].some((key) => /^BACKUP_KEEP_/.test(key)) && !t.out.has('BACKUP_KEEP_WITHIN'))
    t.put(
      'BACKUP_KEEP_WITHIN',
      '',
      '(the --set rules)',
      'translated',
      'the rules given replace the default (keep 7 days)',
    );
  const password = settlePassword(t, options);
  const hasPaths = t.out.has('BACKUP_PATHS') || t.out.has('BACKUP_FILES_FROM');
  const hasDatabase = [...t.out.keys()].some((key) => key.startsWith('PG'));
  if (!hasPaths && !hasDatabase)
    t.block(
      '(all files)',
      'paths',
      'the files name nothing to back up: give --path DIR (what the old setup backed up; its script or unit ' +
        'may say), or import the unit that runs restic backup too',
    );
  if (![...t.out.keys()].some((key) => /^BACKUP_KEEP_/.test(key)))
    t.block(
      '(all files)',
      'retention',
      "the files name no retention rule: restic-systemd's default keeps 7 days (BACKUP_KEEP_WITHIN=7d), while a " +
        'setup that never ran restic forget kept every snapshot (its forget line may be in a script not given: ' +
        'give that script to import too). Keep the default with --set BACKUP_KEEP_WITHIN=7d, or every snapshot ' +
        'with --set BACKUP_KEEP_WITHIN= (no rule: forget never runs)',
    );
  if (options.paths && options.paths.length > 0) setKeys.add('BACKUP_PATHS');
  const drops = options.drop ?? [];
  const usedDrops = new Set<string>();
  const decisions = t.decisions.map((decision) => {
    if (decision.outcome !== 'blocking') return decision;
    const variable = variableOf(decision.from);
    if (variable && decision.topic && t.used.has(variable))
      return settled(decision, 'substituted into a command line, which is translated on its own line');
    const topic = decision.topic;
    if ((topic && [...setKeys].some((key) => SETTLED_BY[topic].test(key))) || (variable && setKeys.has(variable)))
      return settled(decision, 'settled by --set');
    const drop = drops.find((what) => dropMatches(decision.from, what));
    if (drop) {
      usedDrops.add(drop);
      return settled(decision, `left out by --drop ${drop}`);
    }
    return decision;
  });
  for (const what of drops) {
    // --drop of a key that was kept or translated takes it out of the profile.
    if (t.out.has(what)) {
      t.out.delete(what);
      usedDrops.add(what);
      decisions.push({ from: `--drop ${what}`, outcome: 'dropped', why: 'left out of the profile by --drop' });
    }
  }
  return {
    entries: ordered(t.out),
    decisions,
    ...(password !== undefined ? { password } : {}),
    unusedDrops: drops.filter((what) => !usedDrops.has(what)),
  };
}

function settled(decision: Decision, how: string): Decision {
  return { ...decision, outcome: 'dropped', why: `${decision.why.replace(/\. Settle it: .*$/, '')} — ${how}` };
}

/** Whether --drop `what` (a KEY, a unit FILE, a FILE:LINE, or "(all files)") names the source of a decision. */
function dropMatches(from: string, what: string): boolean {
  if (/^[A-Za-z_]\w*$/.test(what)) return variableOf(from) === what;
  return from === what || from.startsWith(`${what} `) || from.startsWith(`${what}: `);
}
