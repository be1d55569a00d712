/**
 * Loads profiles: the file checks (name, symlink, permissions), the env-file reader, the field
 * table (defaults, parsing), the cross-field rules and the external checks, with every problem of
 * every profile collected before one ProfileError is thrown.
 */
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ProfileError, type ProfileIssue } from '../errors.js';
import type { Runner } from '../exec/runner.js';
import { TOOLS } from '../exec/tools.js';
import { addSecret, type Logger } from '../log.js';
import { entryOnHost, onHost, profileFile, type Paths } from '../paths.js';
import { parseEnvFile, type EnvFile } from './envfile.js';
import { checkCalendars } from './external-checks.js';
import { foreignKeyVerdict } from './foreign-keys.js';
import { FIELD_KEYS, FIELDS, FieldValueError, OWN_PREFIXES, fieldOf, isDatabaseKey, sandboxProblem, type FieldKey, type ProfileValues } from './fields.js';
import { assertProfileName } from './name.js';
import { SECRET_FILE_KEYS, checkSecretFile, secretKeys, secretValues, urlPassword } from './secrets.js';
import { CREDENTIALS_KEY, credentialKeyProblem, profileCredentials } from '../credentials/store.js';
import { programFile, untrusted } from './trust.js';
import { nearest } from './suggest.js';

export interface Profile {
  name: string;
  /** The profile's path on the target system, e.g. /etc/restic/myconf.conf. */
  file: string;
  /** Every variable of the file, as systemd's EnvironmentFile= passes it to the job. */
  env: Record<string, string>;
  values: ProfileValues;
  /** Line of each key in the file, for messages. */
  lines: Record<string, number>;
  /** True when the profile sets any database key: the pg-backup@ job is installed. */
  databaseConfigured: boolean;
  /** True when the restic@ file backup is on: BACKUP_PATHS is set, or the profile configures no database. */
  fileBackup: boolean;
  /** The repository folder when the repository is local (the sandbox must allow writing it). */
  localRepository?: string;
  /** What `validate` and `install` point out without refusing the profile: keys with no effect. */
  warnings: ProfileIssue[];
}

export interface LoadOptions {
  /** Report a password file that does not exist yet (false for `init --generate-password`). */
  requirePasswordFile?: boolean;
  /** For `credentials`: a secret written again beside its credential is one to move, not a conflict. */
  movingSecrets?: boolean;
  /** Check the schedules with systemd-analyze (not needed to run a job). */
  checkSchedules?: boolean;
}

/** Load and validate several profiles; throws one ProfileError listing every problem of all. */
export async function loadProfiles(names: readonly string[], paths: Paths, runner: Runner, options: LoadOptions = {}): Promise<Profile[]> {
  names.forEach(assertProfileName);
  const issues: ProfileIssue[] = [];
  const profiles: Profile[] = [];
  for (const result of await Promise.all(names.map((name) => readProfile(name, paths, options)))) {
    issues.push(...result.issues);
    if (result.profile) profiles.push(result.profile);
  }
  if (options.checkSchedules !== false) issues.push(...(await checkCalendars(profiles, runner)));
  if (issues.length > 0) throw new ProfileError(sortIssues(issues, names.map((name) => profileFile(paths, name))));
  return profiles;
}

export async function loadProfile(name: string, paths: Paths, runner: Runner, options: LoadOptions = {}): Promise<Profile> {
  const [profile] = await loadProfiles([name], paths, runner, options);
  return profile!;
}

/**
 * The profile of a job started by systemd, from the environment EnvironmentFile= (and any
 * Environment= of the operator's drop-ins) gave it: the same model and rules as the file.
 */
export async function profileFromEnvironment(name: string, environment: NodeJS.ProcessEnv, paths: Paths): Promise<Profile> {
  assertProfileName(name);
  const file = `the environment of the ${name} unit (from ${profileFile(paths, name)})`;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment)) if (value !== undefined) env[key] = value;
  const issues: ProfileIssue[] = [];
  // The environment also holds systemd's and the shell's variables: only keys of ours are checked.
  const profile = buildProfile(name, file, env, {}, new Set(), issues, 'own-prefixes');
  // systemd read the profile file: it is checked again here, for a file changed after install must not run.
  const onDisk = profileFile(paths, name);
  const fileIssue = await checkProfileFile(entryOnHost(paths, onDisk), onDisk, paths);
  issues.push(...(fileIssue ? [fileIssue] : await checkPermissions(entryOnHost(paths, onDisk), onDisk, env, {}, paths, {})));
  if (issues.length > 0) throw new ProfileError(issues);
  return profile;
}

/** True when systemd started this process with a profile in its environment. */
export function startedBySystemdWithProfile(environment: NodeJS.ProcessEnv): boolean {
  return Boolean(environment.INVOCATION_ID) && ('RESTIC_REPOSITORY' in environment || 'RESTIC_REPOSITORY_FILE' in environment);
}

function buildProfile(
  name: string,
  file: string,
  env: Record<string, string>,
  lines: Record<string, number>,
  refusedKeys: Set<string>,
  issues: ProfileIssue[],
  unknownKeys: 'all' | 'own-prefixes',
  movingSecrets = false,
): Profile {
  secretValues(env).forEach(addSecret);
  const issue = (key: string, message: string) => issues.push({ file, line: lines[key], key, message });
  const warnings: ProfileIssue[] = [];
  const warn = (key: string, message: string) => warnings.push({ file, line: lines[key], key, message });
  const values = parseValues(name, env, issue);
  // Paths listed in files (BACKUP_FILES_FROM) replace the default path, /media/<name>.
  if ('BACKUP_FILES_FROM' in env && !('BACKUP_PATHS' in env)) values.BACKUP_PATHS = [];
  checkUnknownKeys(env, issue, warn, unknownKeys, { name, file });
  checkRules(name, env, refusedKeys, issue, movingSecrets);
  const localRepository = localRepositoryPath(env.RESTIC_REPOSITORY);
  const sandbox = localRepository && sandboxProblem(localRepository);
  if (sandbox) issue('RESTIC_REPOSITORY', sandbox);
  const databaseConfigured = Object.keys(env).some((key) => isDatabaseKey(key) && !NOT_PROFILE_KEYS.has(key));
  return {
    name,
    file,
    env,
    values: values as ProfileValues,
    lines,
    databaseConfigured,
    fileBackup: 'BACKUP_PATHS' in env || 'BACKUP_FILES_FROM' in env || !databaseConfigured,
    localRepository,
    warnings,
  };
}

async function readProfile(name: string, paths: Paths, options: LoadOptions): Promise<{ profile?: Profile; issues: ProfileIssue[] }> {
  const file = profileFile(paths, name);
  const hostFile = entryOnHost(paths, file);
  const fileIssue = await checkProfileFile(hostFile, file, paths);
  if (fileIssue) return { issues: [fileIssue] };

  const envFile = parseEnvFile(await fs.readFile(hostFile), file);
  envFile.refusedSecrets.forEach(addSecret);
  if (envFile.unreadable) return { issues: envFile.issues };
  const issues = [...envFile.issues];
  if (envFile.entries.size === 0 && issues.length === 0) {
    return {
      issues: [{ file, message: `the profile is empty: write at least RESTIC_REPOSITORY=… and RESTIC_PASSWORD_FILE=… (see docs/profile.md)` }],
    };
  }
  const { env, lines } = valuesAndLines(envFile);
  const profile = buildProfile(name, file, env, lines, envFile.refusedKeys, issues, 'all', options.movingSecrets);
  issues.push(...(await checkPermissions(hostFile, file, env, lines, paths, options)));
  // The profile goes on to the external checks even when it has problems, so all are reported at once.
  return { profile, issues };
}

/** The reader's entries as the model takes them: each key's value, and its line for messages. */
function valuesAndLines(envFile: EnvFile): { env: Record<string, string>; lines: Record<string, number> } {
  const env: Record<string, string> = {};
  const lines: Record<string, number> = {};
  for (const [key, entry] of envFile.entries) {
    env[key] = entry.value;
    lines[key] = entry.line;
  }
  return { env, lines };
}

/** The problems of a profile's text before it is written (import): the reader's and the model's, no file on disk involved. */
export function profileTextIssues(name: string, file: string, text: string): { issues: ProfileIssue[]; warnings: ProfileIssue[] } {
  const envFile = parseEnvFile(new TextEncoder().encode(text), file);
  if (envFile.unreadable) return { issues: envFile.issues, warnings: [] };
  const issues = [...envFile.issues];
  const { env, lines } = valuesAndLines(envFile);
  const profile = buildProfile(name, file, env, lines, envFile.refusedKeys, issues, 'all');
  return { issues, warnings: profile.warnings };
}

/**
 * The names of the profiles in the config folder (its *.conf files). A file whose name is not an
 * allowed profile name is left out with a warning, so it cannot break the report on the others.
 */
export function profilesInConfigFolder(paths: Paths, log: Logger): string[] {
  let files: string[];
  try {
    files = fsSync.readdirSync(onHost(paths, paths.configDir));
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const file of files.filter((entry) => entry.endsWith('.conf')).sort()) {
    const name = file.slice(0, -'.conf'.length);
    try {
      assertProfileName(name);
      names.push(name);
    } catch {
      log.warn(`${path.posix.join(paths.configDir, file)} is left out: ${JSON.stringify(name)} is not an allowed profile name (letters, digits, "_", "." and "-"); rename the file`);
    }
  }
  return names;
}

/** Profile by profile, in file order; problems without a line (missing keys, permissions) last. */
function sortIssues(issues: ProfileIssue[], files: string[]): ProfileIssue[] {
  return [...issues].sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || (a.line ?? Infinity) - (b.line ?? Infinity));
}

const MAX_PROFILE_BYTES = 1024 * 1024;

/** The profile must be a regular file (or a link to one inside the config folder), readable. */
async function checkProfileFile(hostFile: string, file: string, paths: Paths): Promise<ProfileIssue | undefined> {
  let stat;
  try {
    stat = await fs.lstat(hostFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { file, message: `no such profile: create ${file} (see docs/profile.md), or run restic-systemd setup ${path.basename(file, '.conf')}` };
    }
    return { file, message: `cannot read the profile: ${(error as Error).message}` };
  }
  if (stat.isSymbolicLink()) {
    const configDir = await fs.realpath(onHost(paths, paths.configDir));
    const target = await fs.realpath(hostFile).catch(() => undefined);
    if (!target || path.dirname(target) !== configDir) {
      return {
        file,
        message: `the profile is a symbolic link to ${(await fs.readlink(hostFile))}, outside ${paths.configDir}: its permissions could not be vouched for; replace the link with the file itself`,
      };
    }
    stat = await fs.stat(hostFile);
  }
  if (!stat.isFile()) return { file, message: 'the profile is not a regular file: replace it with a KEY=VALUE file' };
  if (stat.size > MAX_PROFILE_BYTES) return { file, message: `the profile is ${stat.size} bytes long, more than a profile of KEY=VALUE lines can be (${MAX_PROFILE_BYTES} bytes): is it the right file?` };
  return undefined;
}

function parseValues(name: string, env: Record<string, string>, issue: (key: string, message: string) => void): Partial<ProfileValues> {
  const values: Record<string, unknown> = {};
  for (const key of FIELD_KEYS) {
    const field = FIELDS[key] as { parse: (raw: string) => unknown; default?: string };
    const raw = env[key] ?? field.default?.replaceAll('<name>', name);
    if (raw === undefined) continue;
    try {
      values[key] = field.parse(raw);
    } catch (error) {
      if (!(error instanceof FieldValueError)) throw error;
      issue(key, key in env ? error.message : `the default ${JSON.stringify(raw)} ${error.message}`);
    }
  }
  return values as Partial<ProfileValues>;
}

const OWN_KEYS = FIELD_KEYS.filter((key) => FIELDS[key].owner === 'restic-systemd');

/**
 * Variables of a unit's environment that share a prefix of ours but are not profile keys: systemd's
 * NOTIFY_SOCKET (NotifyAccess=) and the program path overrides (PG_DUMPALL_BIN…) of a drop-in.
 */
const NOT_PROFILE_KEYS = new Set(['NOTIFY_SOCKET', ...Object.values(TOOLS).map((tool) => tool.envVar)]);

/**
 * Keys of ours must be known; a key close to a known one is most likely a typo of it. Keys of
 * other layouts are refused (their meaning would be lost), other keys with no effect are warnings.
 * Under systemd (`own-prefixes`) the environment holds more than the profile: only our prefixes count.
 */
function checkUnknownKeys(env: Record<string, string>, issue: (key: string, message: string) => void, warn: (key: string, message: string) => void, scope: 'all' | 'own-prefixes', profile: { name: string; file: string }): void {
  for (const key of Object.keys(env)) {
    if (fieldOf(key)) continue;
    const ours = OWN_PREFIXES.some((prefix) => key.startsWith(prefix));
    if (scope === 'own-prefixes' && (!ours || NOT_PROFILE_KEYS.has(key))) continue;
    const verdict = foreignKeyVerdict(key, profile);
    if (verdict?.level === 'refuse') {
      issue(key, verdict.message);
      continue;
    }
    // A suggestion only where the near key means the same: a typo, not another word.
    const suggestion = nearest(key, ours ? OWN_KEYS : FIELD_KEYS, 2);
    if (ours) {
      issue(key, `unknown key of restic-systemd${suggestion ? `: did you mean ${suggestion}?` : ''} (the keys are listed in docs/profile.md)`);
    } else if (suggestion) {
      issue(key, `unknown key: did you mean ${suggestion}? (restic and libpq would ignore it silently)`);
    } else if (verdict && scope === 'all') {
      warn(key, verdict.message);
    }
  }
}

function checkRules(name: string, env: Record<string, string>, refusedKeys: Set<string>, issue: (key: string, message: string) => void, movingSecrets: boolean): void {
  // A key on a refused line is there, just unreadable: it is not reported missing as well.
  const present = (keys: FieldKey[]) => keys.filter((key) => key in env || refusedKeys.has(key));
  const repository = present(['RESTIC_REPOSITORY', 'RESTIC_REPOSITORY_FILE']);
  if (repository.length === 0) {
    issue('RESTIC_REPOSITORY', 'is missing: add RESTIC_REPOSITORY=<where the backups go>, e.g. RESTIC_REPOSITORY=/srv/restic-repo or sftp:user@host:/srv/restic-repo');
  } else if (repository.length > 1) {
    issue(repository[1]!, `${repository.join(' and ')} are set together: keep only one`);
  }
  const credentials = profileCredentials({ env });
  for (const key of credentials) {
    const problem = credentialKeyProblem(key);
    if (problem) issue(CREDENTIALS_KEY, `${problem}: remove it from ${CREDENTIALS_KEY}`);
    else if (movingSecrets) continue;
    else if (!['RESTIC_REPOSITORY', 'RESTIC_PASSWORD'].includes(key) && env[key] !== undefined) issue(key, `is also held as an encrypted credential (${CREDENTIALS_KEY}): remove this line, or run restic-systemd credentials ${name} again to replace the credential with it`);
    else if (key === 'RESTIC_REPOSITORY' && env.RESTIC_REPOSITORY !== undefined && urlPassword(env.RESTIC_REPOSITORY) !== undefined) issue(key, `carries a password but is held as an encrypted credential (${CREDENTIALS_KEY}): run restic-systemd credentials ${name} to move the new URL, or remove its password`);
  }
  const plain = present(['RESTIC_PASSWORD_FILE', 'RESTIC_PASSWORD', 'RESTIC_PASSWORD_COMMAND']);
  const held = credentials.includes('RESTIC_PASSWORD') && !(movingSecrets && plain.length > 0) ? ['RESTIC_PASSWORD (encrypted credential)'] : [];
  const password = [...held, ...plain];
  if (password.length === 0) {
    issue('RESTIC_PASSWORD_FILE', 'is missing: add RESTIC_PASSWORD_FILE=/etc/restic/<name>.password (a chmod 600 file holding the password)');
  } else if (password.length > 1) {
    issue(password[1]!.split(' ')[0]!, `${password.join(' and ')} are set together: keep exactly one`);
  }
}

async function checkPermissions(
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
    issues.push({ file, message: `the profile holds a secret (${secretKeys(env).join(', ')}) and is readable by group or others (mode ${octal}): run chmod 600 ${file}` });
  }
  issues.push(...(await checkSecretFiles(path.basename(file, '.conf'), file, env, lines, paths, options)));
  issues.push(...checkPrograms(file, env, lines, paths));
  // A folder above both the profile and its password file is one problem, said once.
  return issues.filter((issue, index) => issues.findIndex((other) => other.message === issue.message) === index);
}

const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The keys whose first word is a program restic or a job runs as root. */
const PROGRAM_KEYS = ['RESTIC_PASSWORD_COMMAND', 'NOTIFY_COMMAND', 'PG_REPMGRD_STOP_COMMAND', 'PG_REPMGRD_START_COMMAND'];

/** Programs the profile makes root run must exist and be root's alone, like the profile. */
function checkPrograms(file: string, env: Record<string, string>, lines: Record<string, number>, paths: Paths): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  for (const key of PROGRAM_KEYS) {
    const word = env[key]?.trim().split(/\s+/)[0];
    if (!word) continue;
    // As the target system would find it (under --root, the image's); a program that is not there
    // is the job's failure to report when it runs, one that is must be root's.
    const found = programFile(word, SYSTEM_PATH.map((folder) => onHost(paths, folder)).join(':'));
    const program = found && (word.includes('/') ? onHost(paths, word) : found);
    const shown = word.includes('/') || !program ? word : program.slice(paths.root === '/' ? 0 : paths.root.length);
    const problem = program && fsSync.existsSync(program) ? untrusted(program, shown, paths.root) : undefined;
    if (problem) issues.push({ file, line: lines[key], key, message: `it runs as root, and ${problem}` });
  }
  return issues;
}

/** Files named by the profile that hold secrets must exist (the password file) and be private. */
async function checkSecretFiles(name: string, file: string, env: Record<string, string>, lines: Record<string, number>, paths: Paths, options: LoadOptions): Promise<ProfileIssue[]> {
  const issues: ProfileIssue[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!(fieldOf(key)?.secretFile || SECRET_FILE_KEYS.has(key)) || !value.startsWith('/')) continue;
    const hostPath = onHost(paths, value);
    const exists = await fs.access(hostPath).then(() => true, () => false);
    if (!exists) {
      if (key === 'RESTIC_PASSWORD_FILE' && options.requirePasswordFile !== false) {
        issues.push({ file, line: lines[key], key, message: `${value} does not exist: create it (chmod 600) or run restic-systemd init ${name} --generate-password` });
      }
      continue;
    }
    const problem = (await checkSecretFile(hostPath, value)) ?? untrusted(hostPath, value, paths.root);
    if (problem) issues.push({ file, line: lines[key], key, message: problem });
  }
  return issues;
}

/** The folder of a local repository ("/srv/repo" or "local:/srv/repo"), else undefined. */
export function localRepositoryPath(repository: string | undefined): string | undefined {
  if (!repository) return undefined;
  const local = repository.startsWith('local:') ? repository.slice('local:'.length) : repository;
  return local.startsWith('/') ? path.posix.normalize(local) : undefined;
}
