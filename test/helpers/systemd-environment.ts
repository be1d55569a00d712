/**
 * The environment systemd gives a unit from a profile, made by systemd's own env-file parser (the
 * environment.d generator shares EnvironmentFile='s state machine, parse_env_file_internal), so a
 * test can start `run` the way a unit does: with the profile's variables and an INVOCATION_ID.
 * The generator also expands $VAR, which EnvironmentFile= does not: profiles given here hold no "$".
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GENERATOR = '/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator';

/** Undo the generator's shell quoting of a value ("…" with backslash escapes). */
export function unquoteGeneratorValue(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1).replace(/\\(.)/g, '$1')
    : value;
}

/** Parse the generator's KEY=VALUE lines. */
export function parseGeneratorOutput(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n').filter(Boolean)) {
    const equals = line.indexOf('=');
    env[line.slice(0, equals)] = unquoteGeneratorValue(line.slice(equals + 1));
  }
  return env;
}

/** What this host's systemd reads from an env file (the variables of environment.d files already on the host left
 * out). */
export function systemdReads(file: string): Record<string, string> {
  if (!fs.existsSync(GENERATOR)) throw new Error(`${GENERATOR} is missing: apt-get install systemd`);
  const run = (folder: string) => {
    const result = spawnSync(GENERATOR, [], {
      encoding: 'utf8',
      env: { XDG_CONFIG_HOME: folder, HOME: '/nonexistent' },
    });
    if (result.status !== 0) throw new Error(`the environment.d generator failed: ${result.stderr}`);
    return parseGeneratorOutput(result.stdout);
  };
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-envd-'));
  try {
    const baseline = run(folder);
    fs.mkdirSync(path.join(folder, 'environment.d'));
    fs.copyFileSync(file, path.join(folder, 'environment.d/profile.conf'));
    const read = run(folder);
    return Object.fromEntries(Object.entries(read).filter(([key, value]) => baseline[key] !== value));
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/** The environment of a unit started by systemd with this profile as its EnvironmentFile=. */
export function unitEnvironment(profileFile: string): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    INVOCATION_ID: '0123456789abcdef0123456789abcdef',
    ...systemdReads(profileFile),
  };
}
