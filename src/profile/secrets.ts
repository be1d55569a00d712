/**
 * Which profile values are secrets, and the permission rules for files that hold them: like ssh
 * with its keys, a secret readable by group or others is refused, with the chmod to run.
 */
import fs from 'node:fs/promises';
import { fieldOf } from './fields.js';

// Credentials of restic's backends and of libpq that are not in the field table.
const SECRET_KEY = /(PASSWORD|PASSPHRASE|SECRET|TOKEN|_KEY|ACCOUNT_SAS|_PASS)$/;
const NOT_SECRET = new Set(['RESTIC_KEY_HINT']);

/** Variables of restic's backends and of libpq (not in the field table) that name a file holding a key. */
export const SECRET_FILE_KEYS = new Set([
  'RESTIC_TLS_CLIENT_CERT',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'AWS_SHARED_CREDENTIALS_FILE',
  'PGSSLKEY',
  'RESTIC_PASSWORD_FILE',
  'RESTIC_REPOSITORY_FILE',
  'PGPASSFILE',
]);

export function isSecretKey(key: string): boolean {
  const field = fieldOf(key);
  if (field) return field.secret === true;
  return SECRET_KEY.test(key) && !NOT_SECRET.has(key);
}

/** The password embedded in a repository URL such as rest:https://user:pw@host/, if any. */
export function urlPassword(value: string): string | undefined {
  const match = /:\/\/[^/@:\s]*:([^/@\s]+)@/.exec(value);
  return match?.[1];
}

/** The keys of a profile whose values are, or contain, secrets. */
export function secretKeys(env: Record<string, string>): string[] {
  return Object.keys(env).filter(
    (key) => env[key] !== '' && (isSecretKey(key) || urlPassword(env[key]!) !== undefined),
  );
}

/** The secret values of a profile's variables (for masking, and to decide its permissions). */
export function secretValues(env: Record<string, string>): string[] {
  const values: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (value === '') continue;
    if (isSecretKey(key)) values.push(value);
    const inUrl = urlPassword(value);
    if (inUrl) values.push(inUrl);
  }
  return values;
}

/** Why a file holding a secret is refused (group or others may read or write it), if it is. */
export async function checkSecretFile(hostPath: string, shownPath: string): Promise<string | undefined> {
  let mode: number;
  try {
    mode = (await fs.stat(hostPath)).mode;
  } catch (error) {
    return `${shownPath} cannot be checked: ${(error as Error).message}`;
  }
  if ((mode & 0o077) === 0) return undefined;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  return `${shownPath} is readable or writable by group or others (mode ${octal}): run chmod 600 ${shownPath}`;
}

/**
 * A line of someone's file with its secrets hidden: the value of every KEY=value whose key names a
 * secret, and the password of every URL. For lines shown as they are (a line import could not read).
 */
export function hideSecretsInLine(text: string): string {
  return text
    .replace(/\b([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"?|'[^']*'?|[^\s;]*)/g, (whole, key: string) =>
      isSecretKey(key) ? `${key}=***` : whole,
    )
    .replace(/(:\/\/[^/@:\s]*:)[^/@\s]+@/g, '$1***@');
}
