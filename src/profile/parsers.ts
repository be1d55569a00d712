/**
 * The parsers of the field table: each turns the raw text of a key into its typed value, or throws
 * FieldValueError with what to write instead.
 */
import { timespanSeconds } from '../formats/timespan.js';
import { programOptionProblem } from './programs.js';

/** A value the field could not accept; the message says what to write instead. */
export class FieldValueError extends Error {}

export const text = () => (raw: string) => raw;

export const nonEmpty = (what: string) => (raw: string) => {
  if (raw === '') throw new FieldValueError(`is empty: set it to ${what}, or remove the line`);
  return raw;
};

// Longer than any path the kernel takes (PATH_MAX): systemd would drop such a line of a unit.
const MAX_PATH = 4096;

export const absolutePath = () => (raw: string) => {
  if (!raw.startsWith('/')) throw new FieldValueError(`"${raw}" is not an absolute path: write it from /`);
  if (raw.length > MAX_PATH)
    throw new FieldValueError(`is ${raw.length} characters long, longer than a path can be (${MAX_PATH})`);
  return raw;
};

/**
 * Folders a job may be allowed to write (ReadWritePaths= of its sandbox): never the whole system,
 * a system folder, or restic-systemd's own state, which the sandbox exists to protect, nor a
 * folder that holds everyone's data (a folder of its own inside one is fine, as /restic-data is).
 */
const SHARED_FOLDERS = [
  '/home',
  '/srv',
  '/var',
  '/opt',
  '/mnt',
  '/media',
  '/root',
  '/tmp',
  '/var/lib',
  '/var/cache',
  '/var/tmp',
  '/var/log',
  '/var/backups',
];
const SYSTEM_FOLDERS = [
  '/etc',
  '/usr',
  '/boot',
  '/dev',
  '/proc',
  '/sys',
  '/run',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/var/lib/restic-systemd',
  '/var/cache/restic-systemd',
];

export function sandboxProblem(folder: string, example = '/srv/restic-repo'): string | undefined {
  const normal = folder
    .replace(/\/+$/, '')
    .split('/')
    .reduce<string[]>(
      (parts, part) => (part === '..' ? parts.slice(0, -1) : part && part !== '.' ? [...parts, part] : parts),
      [],
    );
  const absolute = `/${normal.join('/')}`;
  if (normal.length === 0)
    return (
      `/ is the whole file system: the job's sandbox would have to let the job write all of it; give a folder ` +
      `of its own, such as ${example}`
    );
  if (SHARED_FOLDERS.includes(absolute))
    return (
      `${absolute} holds more than this job's files: the job's sandbox would have to let the job write all of ` +
      `it; give a folder of its own, such as ${example}`
    );
  const system = SYSTEM_FOLDERS.find((item) => absolute === item || absolute.startsWith(`${item}/`));
  return system
    ? `${absolute} is inside ${system}, which the job's sandbox keeps read-only (and must): give a folder of ` +
        `its own, such as ${example}`
    : undefined;
}

export const writableFolder = (example: string) => (raw: string) => {
  const folder = absolutePath()(raw);
  const problem = sandboxProblem(folder, example);
  if (problem) throw new FieldValueError(problem);
  return folder;
};

export const absolutePaths = () => (raw: string) => {
  const paths = raw.split(/\s+/).filter(Boolean);
  if (paths.length === 0)
    throw new FieldValueError('is empty: list at least one absolute path to back up, separated by spaces');
  const relative = paths.filter((p) => !p.startsWith('/'));
  if (relative.length > 0)
    throw new FieldValueError(
      `${relative.map((p) => `"${p}"`).join(', ')} is not an absolute path: write every path from /`,
    );
  return paths;
};

export const calendar = () => (raw: string) => {
  if (raw.trim() === '')
    throw new FieldValueError(
      'is empty: give a systemd calendar expression such as "hourly", "daily" or "*-*-* 02:30"',
    );
  if (raw.trim().startsWith('-'))
    throw new FieldValueError(
      `"${raw}" starts with "-": give a systemd calendar expression such as "hourly", "daily" or "*-*-* 02:30"`,
    );
  return raw;
};

// Longer than any timeout or delay a backup needs; systemd itself would ignore what overflows.
const MAX_TIMESPAN_SECONDS = 10 * 366 * 24 * 3600;

export const timespan = () => (raw: string) => {
  const seconds = timespanSeconds(raw);
  if (seconds === undefined) {
    throw new FieldValueError(
      `"${raw}" is not a systemd time span: write it like "5min", "1h 30min" or "0" (man systemd.time)`,
    );
  }
  if (seconds > MAX_TIMESPAN_SECONDS)
    throw new FieldValueError(`"${raw}" is longer than ten years: write a time span such as "6h" or "2d"`);
  return raw.trim();
};

// restic's duration for --keep-within: numbers with y, m, d or h, e.g. "7d", "1y6m", "2d12h".
export const resticDuration = () => (raw: string) => {
  if (!/^(\d+[ymdh])+$/.test(raw)) {
    throw new FieldValueError(`"${raw}" is not a restic duration: write it like "7d", "2d12h" or "1y6m" (y, m, d, h)`);
  }
  return raw;
};

export const words = () => (raw: string) => raw.split(/\s+/).filter(Boolean);

export const absolutePathList = () => (raw: string) => words()(raw).map((item) => absolutePath()(item));

// Tags as restic takes them: no comma (it separates tags), not an option.
export const tags = () => (raw: string) => {
  const list = words()(raw);
  const bad = list.find((tag) => tag.includes(',') || tag.startsWith('-'));
  if (bad) throw new FieldValueError(`"${bad}" cannot be a tag: a tag holds no "," and does not start with "-"`);
  return list;
};

// restic's -o key=value.
export const resticOptions = () => (raw: string) => {
  const list = words()(raw);
  const bad = list.find((option) => !/^[a-z0-9]+\.[A-Za-z0-9_.-]+=/.test(option));
  if (bad)
    throw new FieldValueError(
      `"${bad}" is not a restic option: write backend.option=value, such as sftp.args=-F/etc/restic/ssh.conf`,
    );
  const program = list.map(programOptionProblem).find(Boolean);
  if (program) throw new FieldValueError(program);
  return list;
};

// restic's size for --exclude-larger-than: a number, optionally with k, m, g or t (powers of 1024).
export const resticSize = () => (raw: string) => {
  if (!/^\d+[kKmMgGtT]?$/.test(raw))
    throw new FieldValueError(`"${raw}" is not a size restic takes: write it like "500M" or "1G"`);
  return raw;
};

export const databasePatterns = () => (raw: string) => {
  const patterns = words()(raw);
  const everything = patterns.find((pattern) => /^[*?]+$/.test(pattern));
  if (everything)
    throw new FieldValueError(
      `"${everything}" matches every database: the dump would hold none; name the databases to leave out`,
    );
  return patterns;
};

export const count = () => (raw: string) => {
  if (!/^\d+$/.test(raw)) throw new FieldValueError(`"${raw}" is not a whole number: write a count such as 7`);
  return Number(raw);
};

export const positiveCount = () => (raw: string) => {
  const value = count()(raw);
  if (value < 1) throw new FieldValueError(`"${raw}" is not a count of at least 1: write a number such as 2`);
  return value;
};

export const yesNo = () => (raw: string) => {
  if (/^(yes|true|1|on)$/i.test(raw)) return true;
  if (/^(no|false|0|off)$/i.test(raw)) return false;
  throw new FieldValueError(`"${raw}" is neither yes nor no: write yes or no`);
};

export const optionalResticDuration = () => (raw: string) => (raw === '' ? undefined : resticDuration()(raw));

// restic check --read-data-subset: "5%", "1/10" (one part of ten) or "500M"; restic refuses 0 %, over 100 % and a
// part past the whole only when the weekly check runs.
export const dataSubset = () => (raw: string) => {
  const shape = /^(\d+(?:\.\d+)?)%$|^(\d+)\/(\d+)$|^(\d+)[KMGT]$/.exec(raw);
  if (!shape) {
    throw new FieldValueError(
      `"${raw}" is not a restic data subset: write a share like "5%", a part like "1/10", or a size like "500M"`,
    );
  }
  const [, percent, part, parts, amount] = shape;
  if (percent !== undefined && !(Number(percent) > 0 && Number(percent) <= 100))
    throw new FieldValueError(`"${raw}" is not a share restic checks: write more than 0% and at most 100%`);
  if (part !== undefined && !(Number(part) >= 1 && Number(part) <= Number(parts)))
    throw new FieldValueError(`"${raw}" is not a part restic checks: write n/t with 1 ≤ n ≤ t, such as 1/10`);
  if (amount !== undefined && Number(amount) === 0)
    throw new FieldValueError(`"${raw}" reads nothing: write a size above 0, such as 500M`);
  return raw;
};

// restic's repository: a backend URL ("sftp:…", "s3:…", "rest:…"…) or a local path, which must be absolute: a
// relative one would land in whatever folder the job or the shell starts in.
export const repositoryLocation = () => (raw: string) => {
  nonEmpty('the repository location')(raw);
  const backend = /^[a-z0-9]+:/.exec(raw)?.[0];
  const local = backend === 'local:' ? raw.slice(backend.length) : backend ? undefined : raw;
  if (local !== undefined && !local.startsWith('/'))
    throw new FieldValueError(
      `"${raw}" is a relative path: restic would put the repository in the folder the job starts in; write it ` +
        `from / (such as /srv/restic-repo), or a backend URL such as sftp:user@host:/srv/restic-repo`,
    );
  return raw;
};

/** An empty value means the key's documented "empty" behaviour, as if it were not set. */
export const emptyMeansUnset =
  <T>(parse: (raw: string) => T) =>
  (raw: string): T | undefined =>
    raw === '' ? undefined : parse(raw);

export const hostName = () => (raw: string) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(raw))
    throw new FieldValueError(`"${raw}" is not a host name: use letters, digits, ".", "-" and "_"`);
  return raw;
};

// A size such as "512M" or "2G" (bytes, K, M, G, T; powers of 1024).
export const size = () => (raw: string) => {
  const match = /^(\d+)([KMGT]?)$/.exec(raw);
  if (!match) throw new FieldValueError(`"${raw}" is not a size: write it like "512M" or "2G"`);
  return Number(match[1]) * 1024 ** ' KMGT'.indexOf(match[2] || ' ');
};

export const oneOf =
  <T extends string>(...choices: T[]) =>
  (raw: string) => {
    if (!(choices as string[]).includes(raw)) throw new FieldValueError(`"${raw}" is not one of ${choices.join(', ')}`);
    return raw as T;
  };

export const httpUrl = () => (raw: string) => {
  // A host is required: https:///path has none.
  if (!/^https?:\/\/[^/\s?#]+(\/\S*)?$/.test(raw) || !canParseUrl(raw))
    throw new FieldValueError(`"${raw}" is not an http(s) URL with a host, such as https://hc-ping.com/<uuid>`);
  // Plain http is kept for monitors on the local network; credentials in it would cross that network in clear.
  if (/^http:\/\/[^/]*@/.test(raw))
    throw new FieldValueError(
      'holds credentials (user:password@) in a plain http URL, which would send them in clear: use https://',
    );
  return raw.replace(/\/+$/, '');
};

export const serviceName = () => (raw: string) => {
  if (raw !== '' && (!/^[A-Za-z0-9:_.@\\-]+$/.test(raw) || raw.startsWith('-'))) {
    throw new FieldValueError(
      `"${raw}" is not a systemd unit name: write it like "repmgrd" or "repmgrd.service", or leave it empty`,
    );
  }
  return raw;
};

function canParseUrl(raw: string): boolean {
  try {
    return new URL(raw).hostname !== '';
  } catch {
    return false;
  }
}
