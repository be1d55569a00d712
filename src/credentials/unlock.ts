/**
 * A run's encrypted credentials, readable by its programs. Under systemd: the files systemd
 * decrypted into $CREDENTIALS_DIRECTORY (LoadCredentialEncrypted=, readable by this service only).
 * Run by hand (`run`, `exec`, `validate`, `init`), and by pg-cleanup in ExecStopPost= (which systemd
 * gives no credentials): decrypted with systemd-creds into a folder of this run under
 * /run/restic-systemd (RAM, root only: 0700, files 0600; pg-backup@'s RuntimeDirectory= inside its
 * sandbox), removed when the run ends and, after a kill, by the next run.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { EnvironmentError, ExitCode, JobError } from '../errors.js';
import { createFileExclusively, makeFolder } from '../files/write.js';
import { addSecret } from '../log.js';
import { processAlive, processStartTime } from '../exec/processes.js';
import type { Profile } from '../profile/model.js';
import { CREDENTIALS_KEY, credentialEnvironment, credentialFile, profileCredentials } from '../profile/credentials.js';
import { decryptCredential } from './systemd-creds.js';

const RUN_FOLDER = '/run/restic-systemd';

export interface UnlockedProfile {
  /** The profile with its credentials in place: the password and repository as files, other secrets as values. */
  profile: Profile;
  /** Remove what was decrypted for this run (nothing under systemd: systemd does). */
  close: () => void;
}

/**
 * Folders of runs that were killed before they could remove their decrypted credentials: their
 * process is gone, or its pid now belongs to another process (another start time). Run by every
 * job and by status, so that a killed hand run's plaintext does not wait for the next decryption.
 */
export function removeCredentialLeftovers(): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(RUN_FOLDER);
  } catch {
    return;
  }
  for (const entry of entries) {
    const match = /^credentials\.(\d+)\.(?:(\d+)\.)?[0-9a-f]+$/.exec(entry);
    if (!match) continue;
    const pid = Number(match[1]);
    const reused = match[2] !== undefined && processStartTime(pid) !== match[2];
    if (!processAlive(pid) || reused) fs.rmSync(path.join(RUN_FOLDER, entry), { recursive: true, force: true });
  }
}

async function decryptForThisRun(context: Context, profile: Profile, keys: readonly string[]): Promise<string> {
  makeFolder('/', RUN_FOLDER, 0o700);
  removeCredentialLeftovers();
  const started = processStartTime(process.pid) ?? '0';
  const folder = path.posix.join(
    RUN_FOLDER,
    `credentials.${process.pid}.${started}.${crypto.randomBytes(6).toString('hex')}`,
  );
  makeFolder('/', folder, 0o700);
  try {
    for (const key of keys) {
      const fd = createFileExclusively('/', path.posix.join(folder, key), 0o600);
      try {
        await decryptCredential(context.runner, key, credentialFile(profile.name, key), fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch (error) {
    fs.rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  return folder;
}

export async function unlockCredentials(
  context: Context,
  profile: Profile,
  environment: NodeJS.ProcessEnv = process.env,
): Promise<UnlockedProfile> {
  const keys = profileCredentials(profile);
  if (keys.length === 0) return { profile, close: () => undefined };
  if (context.paths.offline) {
    throw new EnvironmentError(
      `${profile.file} keeps its secrets as credentials encrypted for the machine it runs on ` +
        `(${CREDENTIALS_KEY}): run this on that machine, without --root`,
    );
  }
  let folder: string;
  let close = () => undefined as void;
  // systemd gives credentials to ExecStart= and its companions, never to ExecStop=/ExecStopPost=
  // (by design: $SERVICE_RESULT marks those); a clean-up started there decrypts them as by hand.
  if (environment.INVOCATION_ID && !environment.SERVICE_RESULT) {
    const loaded = environment.CREDENTIALS_DIRECTORY;
    const missing = keys.filter((key) => !loaded || !fs.existsSync(path.join(loaded, key)));
    if (missing.length > 0) {
      throw new JobError(
        `this unit does not load the encrypted credential${missing.length > 1 ? 's' : ''} ` +
          `${missing.join(' ')} that ${profile.file} names (${CREDENTIALS_KEY}); nothing was done. To fix it, ` +
          `run: restic-systemd install ${profile.name}`,
        ExitCode.UnitsOutdated,
      );
    }
    folder = loaded!;
  } else {
    folder = await decryptForThisRun(context, profile, keys);
    close = () => fs.rmSync(folder, { recursive: true, force: true });
  }
  const { set, unset } = credentialEnvironment(keys, folder, (file) => {
    const value = fs.readFileSync(file, 'utf8');
    addSecret(value);
    return value;
  });
  const env = { ...profile.env, ...set };
  unset.forEach((key) => delete env[key]);
  return { profile: { ...profile, env }, close };
}

/** Run `work` with the profile's credentials unlocked, and remove them afterwards. */
export async function withCredentials<T>(
  context: Context,
  profile: Profile,
  work: (profile: Profile) => Promise<T>,
): Promise<T> {
  const unlocked = await unlockCredentials(context, profile);
  try {
    return await work(unlocked.profile);
  } finally {
    unlocked.close();
  }
}
