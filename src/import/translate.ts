/**
 * From what an operator has (the variables of their env or shell files, layered in order, and the
 * restic command lines of their units) to a restic-systemd profile that means the same: key by key,
 * each with a decision that says what became of it and why. Decisions that would lose the backup's
 * paths, excludes or retention block the import instead of being dropped. Pure: no file is read
 * or written here.
 */
import path from 'node:path';
import { fieldOf, FIELD_KEYS } from '../profile/fields.js';
import { isResticVariable, layoutMeaning, foreignKeyVerdict, type LayoutMeaning } from '../profile/foreign-keys.js';
import { forbiddenVariableProblem } from '../profile/programs.js';
import { cronToCalendar } from './cron.js';
import { emptySettings, readResticWords, type ResticSettings } from './restic-flags.js';
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
  /** Its timer's OnCalendar= and RandomizedDelaySec=, when it has a timer. */
  timer?: { file: string; onCalendar: string[]; randomizedDelay?: string };
}

export type Outcome = 'kept' | 'translated' | 'dropped' | 'blocking';

export interface Decision {
  /** Where it comes from: "file:line KEY", or a unit's command line. */
  from: string;
  outcome: Outcome;
  /** What it became (KEY=value), for kept and translated. */
  to?: string;
  why: string;
}

export interface Translation {
  /** The profile's keys and values, in the order they are written. */
  entries: Array<[string, string]>;
  decisions: Decision[];
  /** The repository password found inline, to go into a file of its own. */
  password?: string;
}

export interface TranslateOptions {
  name: string;
  /** Where the password goes when it was inline (the profile names this file). */
  passwordFile: string;
  /** What to back up when the files name nothing (import --path). */
  paths?: string[];
  /** KEY=value given on the command line (import --set): they win, and settle what they cover. */
  set?: Array<[string, string]>;
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
const RETENTION_KEYS: Record<string, string> = {
  LAST: 'last',
  DAYS: 'daily',
  WEEKS: 'weekly',
  MONTHS: 'monthly',
  YEARS: 'yearly',
  RETENTION_HOURS: 'hourly',
  RETENTION_DAYS: 'daily',
  RETENTION_WEEKS: 'weekly',
  RETENTION_MONTHS: 'monthly',
  RETENTION_YEARS: 'yearly',
};
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

  put(key: string, value: string, from: string, outcome: Outcome, why: string): void {
    this.out.set(key, { value, from });
    this.decide(from, outcome, why, `${key}=${value}`);
  }
}

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
  const meaning = layoutMeaning(key);
  if (meaning) return translateLayoutKey(t, variable, meaning);
  if (value === '') return t.decide(from, 'dropped', 'empty: it set nothing');
  if (isResticVariable(key)) {
    return t.put(key, value, from, 'kept', "restic's own variable, passed to restic as before");
  }
  const forbidden = forbiddenVariableProblem(key);
  if (forbidden) return t.decide(from, 'blocking', `${key} ${forbidden}`);
  const verdict = foreignKeyVerdict(key);
  if (verdict)
    return t.decide(from, 'dropped', `not read by restic or restic-systemd: ${verdict.message.split(':')[0]}`);
  t.put(
    key,
    value,
    from,
    'kept',
    "passed to restic's environment as before (a backend's, libpq's or the runtime's variable)",
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
  const keys = settingsKeys(local, group);
  if (keys.length > 0) t.decide(from, 'translated', what, keys.map(([key, value]) => `${key}=${value}`).join(', '));
  if (local.unknown.length > 0) {
    if (group === 'forget') {
      t.decide(
        from,
        'blocking',
        `retention flags restic-systemd cannot express: ${local.unknown.join(' ')}. Without them the ` +
          `retention would differ (restic itself refuses an unknown flag, so such a line never ran); give the ` +
          `rules with --set (e.g. --set BACKUP_KEEP_YEARLY=2), and they replace these`,
      );
    } else {
      t.decide(
        from,
        'dropped',
        `${group === 'common' ? 'global' : group} flags restic-systemd has no key for: ${local.unknown.join(' ')}`,
      );
    }
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

function translateLayoutKey(t: Translator, variable: SourceVariable, meaning: LayoutMeaning): void {
  const { key, value } = variable;
  const from = where(variable);
  const words = wordsOf(variable);
  if (words.length === 0)
    return t.decide(from, 'dropped', meaning === 'retention' ? 'empty: it set no rule' : 'empty: it set nothing');
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
      else if (/EXCLUDE_FILE$/.test(key)) local.excludeFiles.push(...words);
      else local.excludes.push(...words);
      return contribute(t, from, local, 'backup', 'what to leave out', path.posix.dirname(variable.file));
    case 'retention': {
      const rule =
        RETENTION_KEYS[key.replace(/^RESTIC_(?=RETENTION_)/, '')] ??
        /KEEP_(\w+)$/.exec(key)?.[1]?.toLowerCase().replace('_', '-');
      if (rule && KEEP_TO_KEY[rule] && words.length === 1 && !words[0]!.startsWith('-')) local.keep[rule] = words[0]!;
      else readResticWords(words, local, 'unknown');
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
        return t.decide(
          from,
          'dropped',
          `"${value}" has no exact systemd calendar equivalent: set BACKUP_SCHEDULE by hand (man systemd.time)`,
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
): { subcommand: string; words: string[]; globals: string[] } | undefined {
  const start = words.findIndex((word) => path.posix.basename(word) === 'restic');
  if (start < 0) return undefined;
  const globals: string[] = [];
  for (let index = start + 1; index < words.length; index++) {
    const word = words[index]!;
    if (!word.startsWith('-')) return { subcommand: word, words: words.slice(index + 1), globals };
    globals.push(word);
    if (GLOBAL_WITH_VALUE.has(word)) globals.push(words[++index] ?? '');
  }
  return undefined;
}

function translateUnit(t: Translator, unit: UnitSource, environment: ReadonlyMap<string, string>): void {
  for (const command of unit.commands) {
    const from = `${unit.file} (${unit.service}): ${command}`;
    // Variables of the files given, as systemd substitutes them from the unit's EnvironmentFile=.
    const expanded = expandExecWords(splitShellWords(command), environment);
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
      continue;
    }
    if (invocation.globals.length > 0)
      contribute(
        t,
        from,
        readResticWords(invocation.globals, emptySettings(), 'unknown'),
        'common',
        "restic's options, on every call",
      );
    const local = emptySettings();
    switch (invocation.subcommand) {
      case 'backup':
        contribute(t, from, readResticWords(invocation.words, local, 'paths'), 'backup', 'restic backup of the unit');
        break;
      case 'forget':
        contribute(t, from, readResticWords(invocation.words, local, 'unknown'), 'forget', 'the retention of the unit');
        break;
      case 'check':
        contribute(t, from, readResticWords(invocation.words, local, 'unknown'), 'check', 'the check of the unit');
        break;
      case 'prune':
        t.decide(
          from,
          'translated',
          "restic-systemd's weekly maintenance job prunes (restic-maintenance@<name>.timer)",
        );
        break;
      default:
        t.decide(from, 'dropped', `restic ${invocation.subcommand} is not a job of restic-systemd`);
    }
  }
  if (unit.timer) {
    const from = `${unit.timer.file}`;
    if (unit.timer.onCalendar.length === 1)
      t.put('BACKUP_SCHEDULE', unit.timer.onCalendar[0]!, from, 'translated', "the timer's OnCalendar=");
    else if (unit.timer.onCalendar.length > 1)
      t.decide(
        from,
        'dropped',
        `several OnCalendar= (${unit.timer.onCalendar.join('; ')}): BACKUP_SCHEDULE takes one expression; set ` +
          `it by hand`,
      );
    if (unit.timer.randomizedDelay)
      t.put(
        'BACKUP_RANDOMIZED_DELAY',
        unit.timer.randomizedDelay,
        from,
        'translated',
        "the timer's RandomizedDelaySec=",
      );
  }
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
): Translation {
  const t = new Translator();
  for (const variable of variables) translateVariable(t, variable);
  const environment = new Map(
    variables.map((variable) => [variable.key, variable.words ? variable.words.join(' ') : variable.value]),
  );
  for (const unit of units) translateUnit(t, unit, environment);
  settleSettings(t);
  if (options.paths && options.paths.length > 0)
    t.put('BACKUP_PATHS', options.paths.join(' '), '--path', 'translated', 'given on the command line');
  for (const [key, value] of options.set ?? []) {
    t.put(key, value, `--set ${key}`, 'translated', 'given on the command line');
    const meaning = key.startsWith('BACKUP_KEEP')
      ? 'retention'
      : key === 'BACKUP_PATHS' || key === 'BACKUP_FILES_FROM'
        ? 'paths'
        : undefined;
    if (meaning) t.settled.add(meaning);
  }
  const password = settlePassword(t, options);
  const hasPaths = t.out.has('BACKUP_PATHS') || t.out.has('BACKUP_FILES_FROM');
  const hasDatabase = [...t.out.keys()].some((key) => key.startsWith('PG'));
  if (!hasPaths && !hasDatabase) {
    t.decide(
      '(all files)',
      'blocking',
      `the files name nothing to back up: give --path DIR (what the old setup backed up; its script or unit ` +
        `may say), or import the unit that runs restic backup too`,
    );
  }
  // --set settles what it covers: paths given there, or retention rules given there.
  const decisions = t.decisions.map((decision) => {
    if (decision.outcome !== 'blocking') return decision;
    const covered =
      (t.settled.has('retention') && /retention/.test(decision.why)) ||
      ((t.settled.has('paths') || (options.paths?.length ?? 0) > 0) &&
        /backup path|nothing to back up/.test(decision.why));
    return covered
      ? { ...decision, outcome: 'dropped' as const, why: `${decision.why} — settled by the command line` }
      : decision;
  });
  return { entries: ordered(t.out), decisions, ...(password !== undefined ? { password } : {}) };
}
