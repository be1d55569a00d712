/**
 * `validate <name…>`: everything that must hold for a profile's jobs to run, each problem with
 * its fix: the model (keys, values, schedules, permissions), the restic binary and its version,
 * the repository reachable with the password, and the rendered units verified by systemd.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../context.js';
import { ExitCode, JobError, ProfileError, formatIssue } from '../errors.js';
import { probeProfile } from './probes.js';
import { NOT_READ_BY_RESTIC_0_14 } from '../profile/foreign-keys.js';
import { unitsProblem } from './job-health.js';
import { verifyUnits } from '../tools/systemd-analyze.js';
import { assertProfileName } from '../profile/name.js';
import { profilesInConfigFolder } from '../profile/load.js';
import type { Profile } from '../profile/model.js';
import { loadCheckedProfiles } from './checked-profiles.js';
import { writeFileSafely } from '../files/write.js';
import { instanceUnit, UNIT_TYPES } from '../units/names.js';
import { profileJobs } from '../profile/jobs.js';
import { renderUnits } from '../units/render.js';
import { profileWarnings } from '../import/foreign-units.js';
import { missingPathWarnings, sandboxLinkWarnings } from './path-warnings.js';

export interface Validation {
  name: string;
  valid: boolean;
  resticVersion: string | null;
  problems: string[];
  /** Keys with no effect, other units that run restic: said, not refused. */
  warnings: string[];
}

/** The repository reached with the profile's password (its credentials unlocked for the check): restic's version, or
 * null. */
async function checkUnits(context: Context, profile: Profile, problems: string[]): Promise<void> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-validate-'));
  try {
    for (const file of renderUnits([profile], { paths: context.paths, entrypoint: context.entrypoint() })) {
      writeFileSafely('/', path.join(folder, file.relativePath), file.text, { mode: 0o644, createFolders: 0o700 });
    }
    const units = profileJobs(profile).flatMap((job) =>
      UNIT_TYPES.map((type) => path.join(folder, instanceUnit(job, type, profile.name))),
    );
    const complaints = await verifyUnits(context.runner, units);
    if (complaints)
      problems.push(`systemd-analyze verify of the units:\n${complaints.replaceAll(folder, context.paths.unitDir)}`);
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

const indentProblem = (problem: string) => `  ${problem.replaceAll('\n', '\n    ')}`;

export async function validateCommand(context: Context, given: readonly string[]): Promise<Validation[]> {
  given.forEach(assertProfileName);
  const names = given.length > 0 ? given : profilesInConfigFolder(context.paths, context.log);
  if (names.length === 0)
    throw new JobError(
      `no profiles in ${context.paths.configDir}: nothing to validate (restic-systemd setup or import makes one)`,
      ExitCode.InvalidProfile,
    );
  const validations: Validation[] = [];
  for (const name of names) {
    const problems: string[] = [];
    let warnings: string[] = [];
    let version: string | null = null;
    try {
      const profile = (await loadCheckedProfiles(context, [name]))[0]!;
      warnings = [
        ...profileWarnings(context.paths, [profile]),
        ...missingPathWarnings(context.paths, [profile]),
        ...sandboxLinkWarnings(context.paths, [profile]),
      ];
      const probe = await probeProfile(context, profile);
      version = probe.resticVersion;
      problems.push(...probe.problems);
      if (version?.startsWith('0.14.'))
        warnings.push(
          ...Object.keys(profile.env)
            .filter((key) => NOT_READ_BY_RESTIC_0_14.has(key))
            .map(
              (key) =>
                `${profile.file}: ${key}: restic ${version} does not read it, so it has no effect here ` +
                "(restic 0.18, Debian 13's, does)",
            ),
        );
      await checkUnits(context, profile, problems);
      for (const job of profileJobs(profile)) {
        const problem = await unitsProblem(context, profile, job);
        // Not installed yet is no fault of the profile; installed and different is.
        if (problem && !problem.startsWith('not installed')) problems.push(`${job}: ${problem}`);
      }
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      problems.push(...error.issues.map(formatIssue));
    }
    validations.push({ name, valid: problems.length === 0, resticVersion: version, problems, warnings });
  }
  if (context.json) {
    context.print(JSON.stringify(validations, null, 2));
  } else {
    for (const validation of validations) {
      context.print(
        validation.valid
          ? `${validation.name}: valid (restic ${validation.resticVersion}, repository reachable, units verified)`
          : [
              `${validation.name}: ${validation.problems.length} problem(s):`,
              ...validation.problems.map(indentProblem),
            ].join('\n'),
      );
      for (const warning of validation.warnings) context.print(`  warning: ${warning}`);
    }
  }
  const invalid = validations.filter((validation) => !validation.valid);
  if (invalid.length > 0)
    throw new JobError(
      `${invalid.map((validation) => validation.name).join(', ')} did not validate: fix the problems listed above`,
      ExitCode.InvalidProfile,
    );
  return validations;
}
