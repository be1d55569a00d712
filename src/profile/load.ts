/**
 * Loads profiles: the file checks (permissions.ts), the env-file reader, the field table (defaults,
 * parsing) and the rules (rules.ts), with every problem of every profile collected before one
 * ProfileError is thrown. Pure of programs: checks that run one (the schedules through
 * systemd-analyze) are the commands' to add (tools/schedule-checks.ts).
 */
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ProfileError, type ProfileIssue } from '../errors.js';
import { addSecret, type Logger } from '../log.js';
import { entryOnHost, onHost, profileFile, type Paths } from '../paths.js';
import { parseEnvFile, type EnvFile } from './envfile.js';
import { FIELD_KEYS, FIELDS, fieldOf, isDatabaseKey, type ProfileValues } from './fields.js';
import type { LoadOptions, Profile } from './model.js';
import { assertProfileName } from './name.js';
import { FieldValueError, sandboxProblem } from './parsers.js';
import { forbiddenVariableProblem } from './programs.js';
import { checkPermissions, checkProfileFile } from './permissions.js';
import { checkRules, checkUnknownKeys, isNotProfileKey } from './rules.js';
import { secretValues } from './secrets.js';

export type { LoadOptions, Profile } from './model.js';

/** Several profiles and every problem of each, without throwing: for callers that add problems of their own. */
export async function readProfiles(
  names: readonly string[],
  paths: Paths,
  options: LoadOptions = {},
): Promise<{ profiles: Profile[]; issues: ProfileIssue[] }> {
  names.forEach(assertProfileName);
  const issues: ProfileIssue[] = [];
  const profiles: Profile[] = [];
  for (const result of await Promise.all(names.map((name) => readProfile(name, paths, options)))) {
    issues.push(...result.issues);
    if (result.profile) profiles.push(result.profile);
  }
  return { profiles, issues };
}

/** One ProfileError listing every problem, profile by profile, if there is any. */
export function throwIfIssues(issues: ProfileIssue[], names: readonly string[], paths: Paths): void {
  if (issues.length > 0)
    throw new ProfileError(
      sortIssues(
        issues,
        names.map((name) => profileFile(paths, name)),
      ),
    );
}

/** Load and validate several profiles; throws one ProfileError listing every problem of all. */
export async function loadProfiles(
  names: readonly string[],
  paths: Paths,
  options: LoadOptions = {},
): Promise<Profile[]> {
  const { profiles, issues } = await readProfiles(names, paths, options);
  throwIfIssues(issues, names, paths);
  return profiles;
}

export async function loadProfile(name: string, paths: Paths, options: LoadOptions = {}): Promise<Profile> {
  const [profile] = await loadProfiles([name], paths, options);
  return profile!;
}

/**
 * The profile of a job started by systemd, from the environment EnvironmentFile= (and any
 * Environment= of the operator's drop-ins) gave it: the same model and rules as the file.
 */
export async function profileFromEnvironment(
  name: string,
  environment: NodeJS.ProcessEnv,
  paths: Paths,
): Promise<Profile> {
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
  issues.push(
    ...(fileIssue
      ? [fileIssue]
      : [
          ...(await checkPermissions(entryOnHost(paths, onDisk), onDisk, env, {}, paths, {})),
          ...(await forbiddenVariablesOnDisk(entryOnHost(paths, onDisk), onDisk)),
        ]),
  );
  if (issues.length > 0) throw new ProfileError(issues);
  return profile;
}

/**
 * The environment cannot tell the profile's PATH or LD_* from systemd's own: the file is read for them (the unit
 * unsets the loader's variables before node starts, so the job reports them instead of running with them).
 */
async function forbiddenVariablesOnDisk(hostFile: string, file: string): Promise<ProfileIssue[]> {
  const { entries } = parseEnvFile(await fs.readFile(hostFile), file);
  const issues: ProfileIssue[] = [];
  for (const [key, entry] of entries) {
    const problem = fieldOf(key) ? undefined : forbiddenVariableProblem(key);
    if (problem) issues.push({ file, line: entry.line, key, message: problem });
  }
  return issues;
}

/** True when systemd started this process with a profile in its environment. */
export function startedBySystemdWithProfile(environment: NodeJS.ProcessEnv): boolean {
  return (
    Boolean(environment.INVOCATION_ID) &&
    ('RESTIC_REPOSITORY' in environment || 'RESTIC_REPOSITORY_FILE' in environment)
  );
}

/** A job's profile: from the environment systemd gave its unit, or from its file when run by hand. */
export function loadJobProfile(name: string, environment: NodeJS.ProcessEnv, paths: Paths): Promise<Profile> {
  return startedBySystemdWithProfile(environment)
    ? profileFromEnvironment(name, environment, paths)
    : loadProfile(name, paths);
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
  const fileBackup = 'BACKUP_PATHS' in env || 'BACKUP_FILES_FROM' in env || !databaseConfigured(env);
  if (fileBackup && !hasRetention(values as ProfileValues))
    warn(
      'BACKUP_KEEP_WITHIN',
      'no retention rule is left (BACKUP_KEEP_WITHIN is empty and no BACKUP_KEEP_* is set): restic forget ' +
        'removes nothing, every snapshot is kept for ever; set BACKUP_KEEP_WITHIN=7d or a BACKUP_KEEP_* rule',
    );
  const localRepository = localRepositoryPath(env.RESTIC_REPOSITORY);
  const sandbox = localRepository && sandboxProblem(localRepository);
  if (sandbox) issue('RESTIC_REPOSITORY', sandbox);
  return {
    name,
    file,
    env,
    values: values as ProfileValues,
    lines,
    databaseConfigured: databaseConfigured(env),
    fileBackup,
    localRepository,
    warnings,
  };
}

function databaseConfigured(env: Record<string, string>): boolean {
  return Object.keys(env).some((key) => isDatabaseKey(key) && !isNotProfileKey(key));
}

/** Whether the backup job's retention has a rule at all: restic forget without one removes nothing. */
export function hasRetention(values: ProfileValues): boolean {
  return RETENTION_KEYS.some((key) => values[key] !== undefined && values[key] !== '');
}

const RETENTION_KEYS = [
  'BACKUP_KEEP_WITHIN',
  'BACKUP_KEEP_WITHIN_HOURLY',
  'BACKUP_KEEP_WITHIN_DAILY',
  'BACKUP_KEEP_WITHIN_WEEKLY',
  'BACKUP_KEEP_WITHIN_MONTHLY',
  'BACKUP_KEEP_WITHIN_YEARLY',
  'BACKUP_KEEP_LAST',
  'BACKUP_KEEP_HOURLY',
  'BACKUP_KEEP_DAILY',
  'BACKUP_KEEP_WEEKLY',
  'BACKUP_KEEP_MONTHLY',
  'BACKUP_KEEP_YEARLY',
] as const;

async function readProfile(
  name: string,
  paths: Paths,
  options: LoadOptions,
): Promise<{ profile?: Profile; issues: ProfileIssue[] }> {
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
      issues: [
        {
          file,
          message:
            `the profile is empty: write at least RESTIC_REPOSITORY=… and RESTIC_PASSWORD_FILE=… (see ` +
            `man restic-systemd.conf)`,
        },
      ],
    };
  }
  const { env, lines } = valuesAndLines(envFile);
  const profile = buildProfile(name, file, env, lines, envFile.refusedKeys, issues, 'all', options.movingSecrets);
  issues.push(...(await checkPermissions(hostFile, file, env, lines, paths, options)));
  // The profile goes on to the commands' checks even when it has problems, so all are reported at once.
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

/** The problems of a profile's text before it is written (import): the reader's and the model's, no file on disk
 * involved. */
export function profileTextIssues(
  name: string,
  file: string,
  text: string,
): { issues: ProfileIssue[]; warnings: ProfileIssue[] } {
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
      log.warn(
        `${path.posix.join(paths.configDir, file)} is left out: ${JSON.stringify(name)} is not an allowed ` +
          `profile name (letters, digits, "_", "." and "-"); rename the file`,
      );
    }
  }
  return names;
}

/** Profile by profile, in file order; problems without a line (missing keys, permissions) last. */
function sortIssues(issues: ProfileIssue[], files: string[]): ProfileIssue[] {
  return [...issues].sort(
    (a, b) => files.indexOf(a.file) - files.indexOf(b.file) || (a.line ?? Infinity) - (b.line ?? Infinity),
  );
}

function parseValues(
  name: string,
  env: Record<string, string>,
  issue: (key: string, message: string) => void,
): Partial<ProfileValues> {
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

/** The folder of a local repository ("/srv/repo" or "local:/srv/repo"), else undefined. */
export function localRepositoryPath(repository: string | undefined): string | undefined {
  if (!repository) return undefined;
  const local = repository.startsWith('local:') ? repository.slice('local:'.length) : repository;
  return local.startsWith('/') ? path.posix.normalize(local) : undefined;
}
