/**
 * The rules a profile's keys must follow beyond their own values: no unknown key of ours (a typo
 * is named), no key of another layout (its meaning would be lost), exactly one repository and one
 * password, and encrypted credentials that do not clash with the file.
 */
import { CREDENTIALS_KEY, credentialKeyProblem, profileCredentials } from './credentials.js';
import { FIELD_KEYS, FIELDS, OWN_PREFIXES, fieldOf, type FieldKey } from './fields.js';
import { foreignKeyVerdict, isListedLayoutKey } from './foreign-keys.js';
import { forbiddenVariableProblem } from './programs.js';
import { urlPassword } from './secrets.js';
import { nearest } from './suggest.js';

const OWN_KEYS = FIELD_KEYS.filter((key) => FIELDS[key].owner === 'restic-systemd');

/**
 * Variables of a unit's environment that share a prefix of ours but are not profile keys: systemd's
 * NOTIFY_SOCKET (NotifyAccess=) and the program path overrides (PG_DUMPALL_BIN…: every *_BIN, the
 * runner's) of a drop-in.
 */
export function isNotProfileKey(key: string): boolean {
  return key === 'NOTIFY_SOCKET' || /_BIN$/.test(key);
}

/** The family of a key's name (PG for libpq's, else the first word): a typo stays within its family. */
const familyOf = (key: string) => (key.startsWith('PG') ? 'PG' : key.split('_')[0]);

/**
 * Keys of ours must be known; a key close to a known one is most likely a typo of it. Keys of
 * other layouts are refused (their meaning would be lost), other keys with no effect are warnings.
 * Under systemd (`own-prefixes`) the environment holds more than the profile: only our prefixes count.
 */
export function checkUnknownKeys(
  env: Record<string, string>,
  issue: (key: string, message: string) => void,
  warn: (key: string, message: string) => void,
  scope: 'all' | 'own-prefixes',
  profile: { name: string; file: string },
): void {
  for (const key of Object.keys(env)) {
    if (fieldOf(key)) continue;
    const ours = OWN_PREFIXES.some((prefix) => key.startsWith(prefix));
    if (scope === 'own-prefixes' && (!ours || isNotProfileKey(key))) continue;
    const forbidden = forbiddenVariableProblem(key);
    if (forbidden) {
      issue(key, forbidden);
      continue;
    }
    // A suggestion only where the near key means the same: a typo, not another word.
    const suggestion = nearest(
      key,
      (ours ? OWN_KEYS : FIELD_KEYS).filter((candidate) => familyOf(candidate) === familyOf(key)),
      2,
    );
    const verdict = foreignKeyVerdict(key, profile, env);
    // A layout's listed key is that layout's; a key only named like one may be a typo of ours.
    if (verdict?.level === 'refuse' && (isListedLayoutKey(key) || !(ours && suggestion))) {
      issue(key, verdict.message);
      continue;
    }
    if (ours) {
      issue(
        key,
        `unknown key of restic-systemd${suggestion ? `: did you mean ${suggestion}?` : ''} (the keys are ` +
          `listed in man restic-systemd.conf)`,
      );
    } else if (suggestion) {
      issue(key, `unknown key: did you mean ${suggestion}? (restic and libpq would ignore it silently)`);
    } else if (verdict && scope === 'all') {
      warn(key, verdict.message);
    }
  }
}

export function checkRules(
  name: string,
  env: Record<string, string>,
  refusedKeys: Set<string>,
  issue: (key: string, message: string) => void,
  movingSecrets: boolean,
): void {
  // A key on a refused line is there, just unreadable: it is not reported missing as well.
  const present = (keys: FieldKey[]) => keys.filter((key) => key in env || refusedKeys.has(key));
  const repository = present(['RESTIC_REPOSITORY', 'RESTIC_REPOSITORY_FILE']);
  if (repository.length === 0) {
    issue(
      'RESTIC_REPOSITORY',
      'is missing: add RESTIC_REPOSITORY=<where the backups go>, e.g. RESTIC_REPOSITORY=/srv/restic-repo or ' +
        'sftp:user@host:/srv/restic-repo',
    );
  } else if (repository.length > 1) {
    issue(repository[1]!, `${repository.join(' and ')} are set together: keep only one`);
  }
  const credentials = profileCredentials({ env });
  for (const key of credentials) {
    const problem = credentialKeyProblem(key);
    if (problem) issue(CREDENTIALS_KEY, `${problem}: remove it from ${CREDENTIALS_KEY}`);
    else if (movingSecrets) continue;
    else if (!['RESTIC_REPOSITORY', 'RESTIC_PASSWORD'].includes(key) && env[key] !== undefined)
      issue(
        key,
        `is also held as an encrypted credential (${CREDENTIALS_KEY}): remove this line, or run ` +
          `restic-systemd credentials ${name} again to replace the credential with it`,
      );
    else if (
      key === 'RESTIC_REPOSITORY' &&
      env.RESTIC_REPOSITORY !== undefined &&
      urlPassword(env.RESTIC_REPOSITORY) !== undefined
    )
      issue(
        key,
        `carries a password but is held as an encrypted credential (${CREDENTIALS_KEY}): run restic-systemd ` +
          `credentials ${name} to move the new URL, or remove its password`,
      );
  }
  const plain = present(['RESTIC_PASSWORD_FILE', 'RESTIC_PASSWORD', 'RESTIC_PASSWORD_COMMAND']);
  const held =
    credentials.includes('RESTIC_PASSWORD') && !(movingSecrets && plain.length > 0)
      ? ['RESTIC_PASSWORD (encrypted credential)']
      : [];
  const password = [...held, ...plain];
  if (password.length === 0) {
    issue(
      'RESTIC_PASSWORD_FILE',
      'is missing: add RESTIC_PASSWORD_FILE=/etc/restic/<name>.password (a chmod 600 file holding the password)',
    );
  } else if (password.length > 1) {
    issue(password[1]!.split(' ')[0]!, `${password.join(' and ')} are set together: keep exactly one`);
  }
}
