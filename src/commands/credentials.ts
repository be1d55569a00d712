/**
 * `credentials <name>`: move the profile's secrets (the repository password, a repository URL's
 * password, the backends' and libpq's keys) out of the profile into credentials that systemd-creds
 * encrypts for this machine (/etc/credstore.encrypted/), and let the units load them
 * (LoadCredentialEncrypted=). Every credential is written and proven decryptable before the
 * profile loses a line; running it again moves whatever secret has come back into the profile.
 */
import fs from 'node:fs';
import type { Context } from '../context.js';
import { EnvironmentError, UsageError } from '../errors.js';
import { writeFileSafely } from '../files/write.js';
import { entryOnHost } from '../paths.js';
import { loadProfile } from '../profile/load.js';
import { assertProfileName } from '../profile/name.js';
import {
  CREDENTIALS_KEY,
  credentialFile,
  movableSecrets,
  profileCredentials,
  type MovableSecret,
} from '../profile/credentials.js';
import { KEY_CHOICES, decryptCredential, encryptCredential, type KeyChoice } from '../credentials/systemd-creds.js';
import { existingOwnDropIns } from '../units/install.js';
import { installUnits } from './install.js';

export interface CredentialsReport {
  name: string;
  changed: boolean;
  /** Keys moved into credentials by this run. */
  moved: string[];
  /** Every key the profile now holds encrypted. */
  credentials: string[];
  /** Plaintext files the profile no longer names, left for the operator to keep elsewhere and remove. */
  unusedFiles: string[];
  unitsReinstalled: boolean;
}

/** The profile's text with the moved secrets' lines removed (or rewritten) and the credential list updated. */
function rewriteProfile(
  name: string,
  text: string,
  lines: Record<string, number>,
  secrets: readonly MovableSecret[],
  credentials: readonly string[],
): string {
  const out = text.split('\n');
  for (const secret of secrets) {
    const key = secret.file !== undefined ? 'RESTIC_PASSWORD_FILE' : secret.key;
    const index = lines[key]! - 1;
    out[index] =
      secret.replacement !== undefined
        ? `${key}=${secret.replacement}`
        : `# ${key}: moved by restic-systemd credentials into ${credentialFile(name, secret.key)}`;
  }
  const listLine = `${CREDENTIALS_KEY}=${credentials.join(' ')}`;
  if (lines[CREDENTIALS_KEY] !== undefined) out[lines[CREDENTIALS_KEY]! - 1] = listLine;
  else {
    if (out.at(-1) === '') out.pop();
    out.push(listLine, '');
  }
  return out.join('\n');
}

export async function credentialsCommand(
  context: Context,
  name: string,
  options: { withKey: string },
): Promise<CredentialsReport> {
  assertProfileName(name);
  if (!KEY_CHOICES.includes(options.withKey as KeyChoice))
    throw new UsageError(`--with-key must be one of ${KEY_CHOICES.join(', ')}`);
  const { paths, runner, log } = context;
  if (paths.offline)
    throw new EnvironmentError(
      'credentials are encrypted with the key of the machine that runs the jobs (systemd-creds): run this on ' +
        'that machine, without --root',
    );
  const profile = await loadProfile(name, paths, { movingSecrets: true });
  const secrets = movableSecrets(profile.env);
  const held = profileCredentials(profile);
  const credentials = [...new Set([...held, ...secrets.map((secret) => secret.key)])];
  let report: CredentialsReport = {
    name,
    changed: false,
    moved: [],
    credentials,
    unusedFiles: [],
    unitsReinstalled: false,
  };
  if (secrets.length > 0) {
    // Each credential written and read back before the profile changes: a failure leaves the profile as it was.
    for (const secret of secrets) {
      const ciphertext = await encryptCredential(
        runner,
        secret.key,
        secret.file !== undefined ? { file: secret.file } : { value: secret.value! },
        options.withKey as KeyChoice,
      );
      const target = credentialFile(name, secret.key);
      writeFileSafely('/', target, ciphertext, { mode: 0o600, createFolders: 0o700 });
      const sink = fs.openSync('/dev/null', 'w');
      try {
        await decryptCredential(runner, secret.key, target, sink);
      } finally {
        fs.closeSync(sink);
      }
      log.info(`${secret.key}: encrypted into ${target}`);
    }
    const hostFile = entryOnHost(paths, profile.file);
    writeFileSafely(
      '/',
      profile.file,
      rewriteProfile(name, fs.readFileSync(hostFile, 'utf8'), profile.lines, secrets, credentials),
      { mode: 0o600 },
    );
    const unusedFiles = secrets.flatMap((secret) => (secret.file !== undefined ? [secret.file] : []));
    report = { ...report, changed: true, moved: secrets.map((secret) => secret.key), unusedFiles };
  }
  // Units installed by install carry the credential list in their drop-ins: rewrite them.
  if ((await existingOwnDropIns(paths, name)).length > 0) {
    const installed = await installUnits(context, [name]);
    report = { ...report, unitsReinstalled: true, changed: report.changed || installed.changed };
  }
  print(context, report);
  return report;
}

function print(context: Context, report: CredentialsReport): void {
  if (context.json) {
    context.print(JSON.stringify(report, null, 2));
    return;
  }
  if (report.moved.length === 0)
    context.print(
      `${report.name}: no secret left in the profile to move; ` +
        `${report.credentials.length > 0 ? `held encrypted: ${report.credentials.join(' ')}` : 'it holds none'}`,
    );
  else
    context.print(
      `${report.name}: moved ${report.moved.join(' ')} into encrypted credentials ` +
        `(${credentialFile(report.name, '<KEY>')}); the profile now lists them in ${CREDENTIALS_KEY}`,
    );
  if (report.unitsReinstalled)
    context.print(`${report.name}: units re-installed; they load the credentials with LoadCredentialEncrypted=`);
  else if (report.credentials.length > 0)
    context.print(`${report.name}: its units are not installed: restic-systemd install ${report.name}`);
  for (const file of report.unusedFiles) {
    context.print(
      `${file} is no longer used. The credential can only be decrypted on this machine: keep a copy of the ` +
        `password where you keep your other recovery secrets, then remove the file (shred -u ${file}).`,
    );
  }
}
