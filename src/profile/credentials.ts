/**
 * Which of a profile's secrets systemd can hold encrypted (`restic-systemd credentials <name>`),
 * where their files live, and what the jobs give restic in their place. Pure data: encrypting and
 * decrypting are in systemd-creds.ts and unlock.ts.
 */
import path from 'node:path';
import { fieldOf } from './fields.js';
import { isSecretKey, urlPassword } from './secrets.js';

/** Where systemd looks for encrypted credentials (systemd.exec(5), 251 and newer). */
export const CREDSTORE = '/etc/credstore.encrypted';

/** The profile key that lists the secrets held as encrypted credentials. */
export const CREDENTIALS_KEY = 'ENCRYPTED_CREDENTIALS';

/**
 * The repository password and the repository location (a URL that carries a password): restic
 * reads both from files, so neither is in any process's environment. Any other secret of restic's
 * backends or of libpq is held under its own key and handed to the program in its environment,
 * the only place those programs read it from.
 */
export const FILE_CREDENTIALS = {
  RESTIC_PASSWORD: 'RESTIC_PASSWORD_FILE',
  RESTIC_REPOSITORY: 'RESTIC_REPOSITORY_FILE',
} as const;

/** The keys a profile holds as encrypted credentials. */
export function profileCredentials(profile: { env: Record<string, string> }): string[] {
  return (profile.env[CREDENTIALS_KEY] ?? '').split(/\s+/).filter(Boolean);
}

/** The encrypted file of one credential of a profile. */
export function credentialFile(profileName: string, key: string): string {
  return path.posix.join(CREDSTORE, `restic-systemd.${profileName}.${key}`);
}

/** Why a key cannot be held as a credential, if it cannot. */
export function credentialKeyProblem(key: string): string | undefined {
  if (key in FILE_CREDENTIALS) return undefined;
  if (!/^[A-Z][A-Z0-9_]*$/.test(key)) return `${JSON.stringify(key)} is not a variable name`;
  if (fieldOf(key)?.owner === 'restic-systemd')
    return `${key} is restic-systemd's own key, not a secret of restic or libpq`;
  if (!isSecretKey(key))
    return (
      `${key} is not a secret (only the repository password, a repository URL with a password, and the ` +
      `backends' and libpq's secrets are held encrypted)`
    );
  return undefined;
}

export interface MovableSecret {
  key: string;
  /** The value to encrypt, or the file whose content is the value (a password file). */
  value?: string;
  file?: string;
  /** What the profile's line becomes: removed, or rewritten (a repository URL without its password). */
  replacement?: string;
}

/** The secrets still written in a profile (or in its password file) that `credentials` would move. */
export function movableSecrets(env: Record<string, string>): MovableSecret[] {
  const secrets: MovableSecret[] = [];
  if (env.RESTIC_PASSWORD) secrets.push({ key: 'RESTIC_PASSWORD', value: env.RESTIC_PASSWORD });
  else if (env.RESTIC_PASSWORD_FILE) secrets.push({ key: 'RESTIC_PASSWORD', file: env.RESTIC_PASSWORD_FILE });
  const repository = env.RESTIC_REPOSITORY;
  const inUrl = repository === undefined ? undefined : urlPassword(repository);
  if (repository !== undefined && inUrl !== undefined) {
    secrets.push({ key: 'RESTIC_REPOSITORY', value: repository, replacement: withoutUrlPassword(repository) });
  }
  for (const [key, value] of Object.entries(env)) {
    if (value === '' || key in FILE_CREDENTIALS || credentialKeyProblem(key)) continue;
    secrets.push({ key, value });
  }
  return secrets;
}

/** rest:https://user:secret@host/ → rest:https://user@host/ */
export function withoutUrlPassword(url: string): string {
  return url.replace(/(:\/\/[^/@:\s]*):[^/@\s]+@/, '$1@');
}

/**
 * What a job's programs get for the profile's credentials, `folder` holding one plaintext file per
 * key: the password and repository as files, every other secret as its value (read by `read`).
 */
export function credentialEnvironment(
  keys: readonly string[],
  folder: string,
  read: (file: string) => string,
): { set: Record<string, string>; unset: string[] } {
  const set: Record<string, string> = {};
  const unset: string[] = [];
  for (const key of keys) {
    const file = path.join(folder, key);
    if (key === 'RESTIC_PASSWORD') {
      set.RESTIC_PASSWORD_FILE = file;
      unset.push('RESTIC_PASSWORD', 'RESTIC_PASSWORD_COMMAND');
    } else if (key === 'RESTIC_REPOSITORY') {
      set.RESTIC_REPOSITORY_FILE = file;
      unset.push('RESTIC_REPOSITORY');
    } else {
      set[key] = read(file);
    }
  }
  return { set, unset };
}
