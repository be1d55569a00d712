/**
 * systemd-creds, the one program that encrypts and decrypts the credentials: AES-256-GCM with the
 * host key (/var/lib/systemd/credential.secret, root only) and, with a TPM2, a key sealed in it.
 * A plaintext reaches it on stdin or as the file that holds it, and leaves it into a descriptor:
 * never in argv.
 */
import { CommandError } from '../errors.js';
import { baseEnvironment, type Runner } from '../exec/runner.js';

export type KeyChoice = 'host' | 'tpm2' | 'host+tpm2' | 'auto';
export const KEY_CHOICES: readonly KeyChoice[] = ['auto', 'host', 'tpm2', 'host+tpm2'];

/** Encrypt a value (given as text, or as the file holding it) under the credential name `name`: the Base64 ciphertext.
 * */
export async function encryptCredential(
  runner: Runner,
  name: string,
  plaintext: { value: string } | { file: string },
  withKey: KeyChoice,
): Promise<string> {
  const input = 'file' in plaintext ? plaintext.file : '-';
  const result = await runner.run(
    'systemd-creds',
    [`--with-key=${withKey}`, `--name=${name}`, 'encrypt', '--', input, '-'],
    {
      ...('value' in plaintext ? { input: plaintext.value } : {}),
      env: baseEnvironment(),
    },
  );
  if (result.exitCode !== 0)
    throw new CommandError(
      `systemd-creds could not encrypt ${name}: ${result.stderr.trim()}`,
      result.command,
      result.exitCode,
      result.stderr,
    );
  return result.stdout;
}

/** Decrypt the credential in `file` (named `name` inside) into the open descriptor `fd`. */
export async function decryptCredential(runner: Runner, name: string, file: string, fd: number): Promise<void> {
  const [result] = await runner.pipeline(
    [{ tool: 'systemd-creds', args: [`--name=${name}`, 'decrypt', '--', file, '-'], env: baseEnvironment() }],
    { stdout: fd },
  );
  if (result!.exitCode !== 0 || result!.signal) {
    throw new CommandError(
      `systemd-creds could not decrypt ${file}: ${result!.stderr.trim() || `exit ${result!.exitCode}`} (it ` +
        `needs this machine's key, /var/lib/systemd/credential.secret, and root)`,
      result!.command,
      result!.exitCode,
      result!.stderr,
    );
  }
}
