/**
 * restic's command-line flags as other layouts keep them (RESTIC_BACKUP_ARGS="--tag home",
 * RESTIC_FORGET_ARGS="--keep-daily 7 …", a unit's ExecStart=restic backup …), split as the shell
 * would and read into what restic-systemd's profile keys express. Every flag it cannot express is
 * returned, named, so that nothing is dropped silently.
 */
import { splitShellWords } from '../formats/shell-words.js';

export interface ResticSettings {
  paths: string[];
  excludes: string[];
  iexcludes: string[];
  excludeFiles: string[];
  excludeIfPresent: string[];
  excludeCaches?: boolean;
  excludeLargerThan?: string;
  filesFrom: string[];
  tags: string[];
  host?: string;
  oneFileSystem?: boolean;
  /** forget's --keep-* counts and durations, by restic's flag name without "--keep-" (last, daily, within-daily…). */
  keep: Record<string, string>;
  /** -o key=value */
  options: string[];
  /** check --read-data(-subset) */
  checkSubset?: string;
  /** forget --group-by: restic-systemd groups its own way (said, not kept). */
  groupBy?: string;
  /** forget --prune: restic-systemd prunes in the weekly maintenance. */
  prune?: boolean;
  /** restic's global flags that have a variable of restic's (-r: RESTIC_REPOSITORY, -p: RESTIC_PASSWORD_FILE…). */
  variables: Record<string, string>;
  /** Flags that change only what restic prints (--verbose, --quiet…): dropped, said so. */
  cosmetic: string[];
  /** Flags restic-systemd has no key for, as written. */
  unknown: string[];
}

export function emptySettings(): ResticSettings {
  return {
    paths: [],
    excludes: [],
    iexcludes: [],
    excludeFiles: [],
    excludeIfPresent: [],
    filesFrom: [],
    tags: [],
    keep: {},
    options: [],
    variables: {},
    cosmetic: [],
    unknown: [],
  };
}

const KEEP_FLAGS = new Set([
  'last',
  'hourly',
  'daily',
  'weekly',
  'monthly',
  'yearly',
  'within',
  'within-hourly',
  'within-daily',
  'within-weekly',
  'within-monthly',
  'within-yearly',
]);
const COSMETIC = new Set([
  '--verbose',
  '-v',
  '-vv',
  '--quiet',
  '-q',
  '--json',
  '--no-scan',
  '--dry-run',
  '-n',
  '--compact',
]);
// Flags whose value is the next word, and what they set.
const WITH_VALUE: Record<string, (settings: ResticSettings, value: string) => void> = {
  '--exclude': (s, v) => s.excludes.push(v),
  '-e': (s, v) => s.excludes.push(v),
  '--iexclude': (s, v) => s.iexcludes.push(v),
  '--exclude-file': (s, v) => s.excludeFiles.push(v),
  '--exclude-if-present': (s, v) => s.excludeIfPresent.push(v),
  '--exclude-larger-than': (s, v) => (s.excludeLargerThan = v),
  '--files-from': (s, v) => s.filesFrom.push(v),
  '--files-from-verbatim': (s, v) => s.filesFrom.push(v),
  '--tag': (s, v) => s.tags.push(...v.split(',').filter(Boolean)),
  '--host': (s, v) => (s.host = v),
  '-H': (s, v) => (s.host = v),
  '--hostname': (s, v) => (s.host = v),
  '--option': (s, v) => s.options.push(v),
  '-o': (s, v) => s.options.push(v),
  '--read-data-subset': (s, v) => (s.checkSubset = v),
  '--group-by': (s, v) => (s.groupBy = v),
  '-g': (s, v) => (s.groupBy = v),
};
// Global flags whose value restic also reads from a variable (man restic: "Environment Variables").
const AS_VARIABLE: Record<string, string> = {
  '-r': 'RESTIC_REPOSITORY',
  '--repo': 'RESTIC_REPOSITORY',
  '--repository-file': 'RESTIC_REPOSITORY_FILE',
  '-p': 'RESTIC_PASSWORD_FILE',
  '--password-file': 'RESTIC_PASSWORD_FILE',
  '--password-command': 'RESTIC_PASSWORD_COMMAND',
  '--cacert': 'RESTIC_CACERT',
  '--tls-client-cert': 'RESTIC_TLS_CLIENT_CERT',
  '--key-hint': 'RESTIC_KEY_HINT',
  '--compression': 'RESTIC_COMPRESSION',
  '--pack-size': 'RESTIC_PACK_SIZE',
};
const SWITCHES: Record<string, (settings: ResticSettings) => void> = {
  '--exclude-caches': (s) => (s.excludeCaches = true),
  '--one-file-system': (s) => (s.oneFileSystem = true),
  '-x': (s) => (s.oneFileSystem = true),
  '--read-data': (s) => (s.checkSubset = '100%'),
  '--prune': (s) => (s.prune = true),
};

/**
 * Read restic flags (and, for `backup`, its paths) into `settings`. `words` are already split;
 * the subcommand itself (backup, forget…) is not among them.
 */
export function readResticWords(
  words: readonly string[],
  settings: ResticSettings = emptySettings(),
  positional: 'paths' | 'unknown' = 'paths',
): ResticSettings {
  let afterDashes = false;
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    if (afterDashes || !word.startsWith('-')) {
      // backup's words are paths; forget's would be snapshot IDs, which a schedule never names.
      (positional === 'paths' ? settings.paths : settings.unknown).push(word);
      continue;
    }
    if (word === '--') {
      afterDashes = true;
      continue;
    }
    const equals = word.indexOf('=');
    const flag = equals > 0 ? word.slice(0, equals) : word;
    const inline = equals > 0 ? word.slice(equals + 1) : undefined;
    const keep = /^--keep-(.+)$/.exec(flag)?.[1];
    const takeValue = () => inline ?? words[++index];
    if (keep && KEEP_FLAGS.has(keep)) {
      const value = takeValue();
      if (value === undefined) settings.unknown.push(word);
      else settings.keep[keep] = value;
    } else if (AS_VARIABLE[flag]) {
      const value = takeValue();
      if (value === undefined) settings.unknown.push(word);
      else settings.variables[AS_VARIABLE[flag]] = value;
    } else if (WITH_VALUE[flag]) {
      const value = takeValue();
      if (value === undefined) settings.unknown.push(word);
      else WITH_VALUE[flag](settings, value);
    } else if (SWITCHES[flag] && inline === undefined) {
      SWITCHES[flag](settings);
    } else if (COSMETIC.has(flag)) {
      settings.cosmetic.push(word);
    } else {
      settings.unknown.push(word);
    }
  }
  return settings;
}

/**
 * Flags restic-systemd has no key for that decide what is backed up, left out, kept, where or with
 * which password: a profile without them would mean something else, so they block the import.
 */
export const DECIDING_FLAG = /^--?(i?exclude|files-from|stdin|keep-|insecure-no-password|from-|force$|read-data)/;

/** Whether the words hold a flag the reader knows, or one that decides (a value of restic flags, whatever its key). */
export function holdsResticFlags(words: readonly string[]): boolean {
  const read = readResticWords(words, emptySettings(), 'unknown');
  const flags = words.filter((word) => word.startsWith('-')).length;
  const notRead = read.unknown.filter((word) => word.startsWith('-'));
  return flags > notRead.length + read.cosmetic.length || notRead.some((word) => DECIDING_FLAG.test(word));
}

/** The same from a string of flags, split as the shell would split it. */
export function readResticFlags(
  text: string,
  settings: ResticSettings = emptySettings(),
  positional: 'paths' | 'unknown' = 'paths',
): ResticSettings {
  return readResticWords(splitShellWords(text), settings, positional);
}
