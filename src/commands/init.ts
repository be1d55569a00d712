/**
 * `init <name> [--generate-password]`: create the profile's repository if it does not exist, and
 * succeed quietly if it does (probed with restic cat config: restic init never runs twice).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Context } from '../context.js';
import { ExitCode, JobError, UsageError } from '../errors.js';
import { RESTIC_EXIT, classifyResticFailure } from '../tools/restic.js';
import { withRepositoryLock } from '../locks/repository-lock.js';
import { callRestic, openRestic } from '../jobs/restic-call.js';
import { writeFileSafely } from '../files/write.js';
import { onHost } from '../paths.js';
import { loadProfile, type Profile } from '../profile/load.js';
import { withCredentials } from '../credentials/unlock.js';

/** Write a random password into the profile's RESTIC_PASSWORD_FILE unless it exists; true if written. */
async function generatePasswordFile(context: Context, profile: Profile): Promise<boolean> {
  const target = profile.env.RESTIC_PASSWORD_FILE;
  if (!target) {
    throw new UsageError(
      `--generate-password needs RESTIC_PASSWORD_FILE in ${profile.file}: add ` +
        `RESTIC_PASSWORD_FILE=/etc/restic/${profile.name}.password`,
    );
  }
  if (fs.existsSync(onHost(context.paths, target))) return false;
  writeFileSafely(context.paths.root, target, `${crypto.randomBytes(32).toString('base64url')}\n`, {
    mode: 0o600,
    createFolders: 0o700,
    exclusive: true,
  });
  return true;
}

export interface InitReport {
  created: boolean;
  repository: string;
  passwordGenerated: boolean;
  passwordFile: string | null;
}

export async function initCommand(context: Context, name: string, generatePassword: boolean): Promise<void> {
  const report = await initRepository(context, name, generatePassword);
  if (context.json) {
    context.print(JSON.stringify(report, null, 2));
    return;
  }
  if (report.passwordGenerated)
    context.print(
      `generated a password in ${report.passwordFile} (mode 0600): keep a copy elsewhere, without it the ` +
        `backups cannot be read`,
    );
  context.print(
    report.created
      ? `created the repository ${report.repository}`
      : `the repository ${report.repository} already exists: nothing to do`,
  );
}

/** Init without printing: what `init` and `setup` do. */
export async function initRepository(context: Context, name: string, generatePassword: boolean): Promise<InitReport> {
  let profile = await loadProfile(name, context.paths, { requirePasswordFile: !generatePassword });
  const passwordGenerated = generatePassword ? await generatePasswordFile(context, profile) : false;
  if (passwordGenerated) profile = await loadProfile(name, context.paths);
  const repository = profile.env.RESTIC_REPOSITORY ?? `the repository named in ${profile.env.RESTIC_REPOSITORY_FILE}`;

  const created = await withCredentials(context, profile, async (unlocked) => {
    const restic = await openRestic(context, unlocked);
    return withRepositoryLock(context, profile, 'init', async () => {
      const probe = await callRestic(restic, `checking whether ${repository} exists`, ['cat', 'config'], {}, [
        RESTIC_EXIT.fatal,
        RESTIC_EXIT.noRepository,
      ]);
      if (probe.exitCode === 0) return false;
      const { problem, meaning, exitCode } = classifyResticFailure(probe.exitCode, probe.stderr, profile.name);
      if (problem !== 'no-repository')
        throw new JobError(
          `cannot tell whether ${repository} exists: ${meaning}\nrestic said:\n${probe.stderr.trim()}`,
          exitCode ?? ExitCode.CommandFailed,
        );
      await callRestic(restic, 'restic init', ['init']);
      return true;
    });
  });

  return { created, repository, passwordGenerated, passwordFile: profile.env.RESTIC_PASSWORD_FILE ?? null };
}
