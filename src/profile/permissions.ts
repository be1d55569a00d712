/**
 * Who may have written what a profile makes root do: the profile file itself (a regular file of
 * root's, or a link to one inside the config folder, not too large), the files it names that hold
 * secrets (private), and the programs it makes root run (root's alone), all by the trust rule of
 * files/trust.ts.
 */
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ProfileIssue } from '../errors.js';
import { SYSTEM_PATH, otherWriter, programFile, untrusted } from '../files/trust.js';
import { onHost, type Paths } from '../paths.js';
import { fieldOf } from './fields.js';
import { words } from './parsers.js';
import { namedConfigFiles, namedPrograms } from './programs.js';
import type { LoadOptions } from './model.js';
import { SECRET_FILE_KEYS, checkSecretFile, secretKeys } from './secrets.js';

const MAX_PROFILE_BYTES = 1024 * 1024;

/** The profile must be a regular file (or a link to one inside the config folder), readable. */
export async function checkProfileFile(
  hostFile: string,
  file: string,
  paths: Paths,
): Promise<ProfileIssue | undefined> {
  let stat;
  try {
    stat = await fs.lstat(hostFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return {
        file,
        message:
          `no such profile: create ${file} (see man restic-systemd.conf), or run restic-systemd setup ` +
          `${path.basename(file, '.conf')}`,
      };
    }
    return { file, message: `cannot read the profile: ${(error as Error).message}` };
  }
  if (stat.isSymbolicLink()) {
    const configDir = await fs.realpath(onHost(paths, paths.configDir));
    const target = await fs.realpath(hostFile).catch(() => undefined);
    if (!target || path.dirname(target) !== configDir) {
      return {
        file,
        message:
          `the profile is a symbolic link to ${await fs.readlink(hostFile)}, outside ${paths.configDir}: its ` +
          `permissions could not be vouched for; replace the link with the file itself`,
      };
    }
    stat = await fs.stat(hostFile);
  }
  if (!stat.isFile()) return { file, message: 'the profile is not a regular file: replace it with a KEY=VALUE file' };
  if (stat.size > MAX_PROFILE_BYTES)
    return {
      file,
      message:
        `the profile is ${stat.size} bytes long, more than a profile of KEY=VALUE lines can be ` +
        `(${MAX_PROFILE_BYTES} bytes): is it the right file?`,
    };
  return undefined;
}

export async function checkPermissions(
  hostFile: string,
  file: string,
  env: Record<string, string>,
  lines: Record<string, number>,
  paths: Paths,
  options: LoadOptions,
): Promise<ProfileIssue[]> {
  const issues: ProfileIssue[] = [];
  const mode = (await fs.stat(hostFile)).mode;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  const notTrusted = untrusted(hostFile, file, paths.root);
  if (notTrusted) {
    issues.push({ file, message: notTrusted });
  } else if ((mode & 0o044) !== 0 && secretKeys(env).length > 0) {
    issues.push({
      file,
      message:
        `the profile holds a secret (${secretKeys(env).join(', ')}) and is readable by group or others (mode ` +
        `${octal}): run chmod 600 ${file}`,
    });
  }
  issues.push(...(await checkSecretFiles(path.basename(file, '.conf'), file, env, lines, paths, options)));
  issues.push(...checkPrograms(file, env, lines, paths));
  issues.push(...checkListFiles(file, env, lines, paths));
  issues.push(...checkPatroniConfig(file, env, lines, paths));
  // A folder above both the profile and its password file is one problem, said once.
  return issues.filter((issue, index) => issues.findIndex((other) => other.message === issue.message) === index);
}

/** Programs the profile makes root run, and the ssh or rclone config files it names, must be root's alone. */
function checkPrograms(
  file: string,
  env: Record<string, string>,
  lines: Record<string, number>,
  paths: Paths,
): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const options = words()(env.BACKUP_RESTIC_OPTIONS ?? '');
  const lineOf = (key: string) => lines[key.split(' ')[0]!];
  for (const { key, word } of namedPrograms(env, options)) {
    // As the target system would find it (under --root, the image's); a program that is not there
    // is the job's failure to report when it runs, one that is must be root's.
    const found = programFile(
      word,
      SYSTEM_PATH.split(':')
        .map((folder) => onHost(paths, folder))
        .join(':'),
    );
    const program = found && (word.includes('/') ? onHost(paths, word) : found);
    const shown = word.includes('/') || !program ? word : program.slice(paths.root === '/' ? 0 : paths.root.length);
    const problem = program && fsSync.existsSync(program) ? untrusted(program, shown, paths.root) : undefined;
    if (problem) issues.push({ file, line: lineOf(key), key, message: `it runs as root, and ${problem}` });
  }
  for (const { key, word } of namedConfigFiles(options)) {
    const config = word.startsWith('/') ? onHost(paths, word) : undefined;
    const problem = config && fsSync.existsSync(config) ? untrusted(config, word, paths.root) : undefined;
    if (problem)
      issues.push({ file, line: lineOf(key), key, message: `it can name programs root runs, and ${problem}` });
  }
  return issues;
}

/** Files of patterns and of paths decide what root backs up: only root may change them. */
function checkListFiles(
  file: string,
  env: Record<string, string>,
  lines: Record<string, number>,
  paths: Paths,
): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  for (const key of ['BACKUP_EXCLUDE_FILE', 'BACKUP_FILES_FROM'] as const) {
    for (const word of words()(env[key] ?? '')) {
      const host = word.startsWith('/') ? onHost(paths, word) : undefined;
      const writer = host && fsSync.existsSync(host) ? otherWriter(host, word, paths.root) : undefined;
      if (!writer || 'unreadable' in writer) continue;
      const how =
        writer.uid !== undefined
          ? `belongs to uid ${writer.uid}: make it root's (chown root: ${writer.item})`
          : `is writable by group or others (mode ${writer.mode}): chmod go-w ${writer.item}`;
      issues.push({
        file,
        line: lines[key],
        key,
        message:
          `${word} decides what root backs up, and ${writer.named} ${how}; otherwise that account could ` +
          (key === 'BACKUP_EXCLUDE_FILE' ? 'empty every backup' : 'make root back up whatever it lists'),
      });
    }
  }
  return issues;
}

/**
 * patronictl runs as root when PG_OS_USER is not set (or is root): then only root may change the
 * configuration it reads, or make it where it is missing. A folder is refused: patronictl would
 * read every file in it.
 */
function checkPatroniConfig(
  file: string,
  env: Record<string, string>,
  lines: Record<string, number>,
  paths: Paths,
): ProfileIssue[] {
  if (env.PG_HA_MANAGER !== 'patroni') return [];
  const config = env.PG_PATRONI_CONFIG || String(fieldOf('PG_PATRONI_CONFIG')!.default);
  if (!config.startsWith('/')) return [];
  const key = env.PG_PATRONI_CONFIG ? 'PG_PATRONI_CONFIG' : 'PG_HA_MANAGER';
  const issue = (message: string): ProfileIssue[] => [{ file, line: lines[key], key, message }];
  const host = onHost(paths, config);
  if (fsSync.existsSync(host) && !fsSync.statSync(host).isFile())
    return issue(`${config} is not a file: name Patroni's configuration file itself (e.g. /etc/patroni/17-main.yml)`);
  if (env.PG_OS_USER && env.PG_OS_USER !== 'root') return [];
  // A missing file: whoever can write its folder could make it.
  let existing = host;
  while (!fsSync.existsSync(existing) && existing !== path.dirname(existing)) existing = path.dirname(existing);
  const shown = existing === host ? config : existing.slice(paths.root === '/' ? 0 : paths.root.length) || '/';
  const problem = untrusted(existing, shown, paths.root);
  if (!problem) return [];
  return issue(
    `root's patronictl reads ${config} (PG_OS_USER is not set), and ${problem}; or set PG_OS_USER to the ` +
      `account that runs Patroni`,
  );
}

/** Files named by the profile that hold secrets must exist (the password file) and be private. */
async function checkSecretFiles(
  name: string,
  file: string,
  env: Record<string, string>,
  lines: Record<string, number>,
  paths: Paths,
  options: LoadOptions,
): Promise<ProfileIssue[]> {
  const issues: ProfileIssue[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!(fieldOf(key)?.secretFile || SECRET_FILE_KEYS.has(key)) || !value.startsWith('/')) continue;
    const hostPath = onHost(paths, value);
    const exists = await fs.access(hostPath).then(
      () => true,
      () => false,
    );
    if (!exists) {
      if (key === 'RESTIC_PASSWORD_FILE' && options.requirePasswordFile !== false) {
        issues.push({
          file,
          line: lines[key],
          key,
          message:
            `${value} does not exist: create it (chmod 600) or run restic-systemd init ${name} ` +
            `--generate-password`,
        });
      }
      continue;
    }
    const problem = (await checkSecretFile(hostPath, value)) ?? untrusted(hostPath, value, paths.root);
    if (problem) issues.push({ file, line: lines[key], key, message: problem });
  }
  return issues;
}
