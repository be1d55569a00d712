/**
 * Units that restic-systemd did not write and that run restic: hand-made `restic@.service`,
 * `restic-backup@.timer`, a role's `restic.service`… Found in the unit folders by what their
 * Exec lines run, and reported by install, validate, status and import, so that no one runs two
 * schedules on one repository without knowing it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { onHost, type Paths } from '../paths.js';
import type { Profile } from '../profile/model.js';
import { readEnvFile } from '../formats/read-env-file.js';
import { splitShellWords } from '../formats/shell-words.js';
import {
  expandSpecifiers,
  parseUnitFile,
  settingValues,
  writtenByRestic,
  type UnitSetting,
} from '../formats/unit-file.js';

/** Where units are found, in systemd's order: the first folder holding a name wins. */
const UNIT_FOLDERS = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
];
const EXEC_KEYS = ['ExecStartPre', 'ExecStart', 'ExecStartPost', 'ExecStop', 'ExecStopPost'];

export interface ForeignUnitFile {
  /** The unit file's name, e.g. restic-backup@.service. */
  name: string;
  /** Its path on the target system. */
  file: string;
  settings: UnitSetting[];
}

export interface ForeignResticUnit {
  /** The unit as enabled, e.g. restic-backup@home.timer, or a service. */
  unit: string;
  /** The service it starts, e.g. restic-backup@home.service. */
  service: string;
  /** The service's unit file on the target system. */
  file: string;
  /** The repository its environment files or command line name, when they name one. */
  repository?: string;
  /** Its restic command lines, specifiers expanded. */
  commands: string[];
}

function readUnitFile(paths: Paths, name: string): ForeignUnitFile | undefined {
  for (const folder of UNIT_FOLDERS) {
    const file = path.posix.join(folder, name);
    let text: string;
    try {
      text = fs.readFileSync(onHost(paths, file), 'utf8');
    } catch {
      continue;
    }
    return { name, file, settings: parseUnitFile(writtenByRestic(text) ? '' : text) };
  }
  return undefined;
}

/** The file of a unit, or of its template for an instance (foo@bar.service → foo@.service). */
function unitFileOf(paths: Paths, unit: string): ForeignUnitFile | undefined {
  return (
    readUnitFile(paths, unit) ?? (unit.includes('@') ? readUnitFile(paths, unit.replace(/@[^.]*\./, '@.')) : undefined)
  );
}

function isOurs(paths: Paths, unit: string): boolean {
  for (const name of [unit, unit.replace(/@[^.]*\./, '@.')]) {
    for (const folder of UNIT_FOLDERS) {
      try {
        return writtenByRestic(fs.readFileSync(onHost(paths, path.posix.join(folder, name)), 'utf8'));
      } catch {
        // not in this folder
      }
    }
  }
  return false;
}

/** The Exec lines of a unit that run restic (or a script or tool named after it), expanded for `unit`. */
export function resticCommands(settings: readonly UnitSetting[], unit: string): string[] {
  return EXEC_KEYS.flatMap((key) => settingValues(settings, 'Service', key))
    .map((line) => expandSpecifiers(line.replace(/^[-@:+!]+/, ''), unit))
    .filter((line) => /restic/i.test(line));
}

/** The repository a service uses: RESTIC_REPOSITORY of its environment, or -r/--repo on its command line. */
function repositoryOf(
  paths: Paths,
  settings: readonly UnitSetting[],
  unit: string,
  commands: readonly string[],
): string | undefined {
  let repository: string | undefined;
  for (const file of settingValues(settings, 'Service', 'EnvironmentFile')) {
    const target = expandSpecifiers(file.replace(/^-/, ''), unit);
    try {
      const read = readEnvFile(fs.readFileSync(onHost(paths, target), 'utf8'));
      repository = read.assignments.find((item) => item.key === 'RESTIC_REPOSITORY')?.value ?? repository;
    } catch {
      // unreadable or missing: no repository from it
    }
  }
  for (const value of settingValues(settings, 'Service', 'Environment')) {
    for (const word of splitShellWords(expandSpecifiers(value, unit))) {
      if (word.startsWith('RESTIC_REPOSITORY=')) repository = word.slice('RESTIC_REPOSITORY='.length);
    }
  }
  for (const command of commands) {
    const words = splitShellWords(command);
    const flag = words.findIndex((word) => word === '-r' || word === '--repo');
    if (flag >= 0 && words[flag + 1]) repository = words[flag + 1];
    const inline = words.find((word) => word.startsWith('--repo='));
    if (inline) repository = inline.slice('--repo='.length);
  }
  return repository;
}

/** A service (or the service a timer starts) that runs restic and is not ours, as enabled under `unit`. */
export function foreignResticUnit(paths: Paths, unit: string): ForeignResticUnit | undefined {
  let service = unit;
  if (unit.endsWith('.timer')) {
    const timer = unitFileOf(paths, unit);
    const target = timer && settingValues(timer.settings, 'Timer', 'Unit')[0];
    service = target ? expandSpecifiers(target, unit) : unit.replace(/\.timer$/, '.service');
  }
  if (!service.endsWith('.service') || isOurs(paths, service)) return undefined;
  const file = unitFileOf(paths, service);
  if (!file) return undefined;
  const commands = resticCommands(file.settings, service);
  if (commands.length === 0) return undefined;
  return {
    unit,
    service,
    file: file.file,
    repository: repositoryOf(paths, file.settings, service, commands),
    commands,
  };
}

/** Every enabled timer or service (a link in a *.wants folder of /etc/systemd/system) that runs restic and is not
 * ours. */
export function enabledForeignResticUnits(paths: Paths): ForeignResticUnit[] {
  const base = onHost(paths, '/etc/systemd/system');
  let folders: string[];
  try {
    folders = fs.readdirSync(base).filter((entry) => entry.endsWith('.wants'));
  } catch {
    return [];
  }
  const found = new Map<string, ForeignResticUnit>();
  for (const folder of folders) {
    let links: string[];
    try {
      links = fs.readdirSync(path.join(base, folder));
    } catch {
      continue;
    }
    for (const link of links.filter((entry) => /\.(timer|service)$/.test(entry)).sort()) {
      if (found.has(link)) continue;
      const unit = foreignResticUnit(paths, link);
      if (unit) found.set(link, unit);
    }
  }
  return [...found.values()];
}

/** Every unit file that runs restic and is not ours, enabled or not, for import to report. */
export function foreignResticUnitFiles(paths: Paths): ForeignUnitFile[] {
  const seen = new Set<string>();
  const files: ForeignUnitFile[] = [];
  for (const folder of UNIT_FOLDERS) {
    let entries: string[];
    try {
      entries = fs.readdirSync(onHost(paths, folder));
    } catch {
      continue;
    }
    for (const name of entries.filter((entry) => entry.endsWith('.service')).sort()) {
      if (seen.has(name)) continue;
      seen.add(name);
      const file = readUnitFile(paths, name);
      if (file && resticCommands(file.settings, name).length > 0) files.push(file);
    }
  }
  return files;
}

/** What to say of a foreign unit: what it runs, and the command that stops it. */
export function describeForeignUnit(unit: ForeignResticUnit): string {
  const repository = unit.repository ? ` into ${unit.repository}` : '';
  return (
    `${unit.unit} (enabled, ${unit.file}) runs restic${repository}: stop it once restic-systemd's job runs ` +
    `instead: systemctl disable --now ${unit.unit}`
  );
}

/** What validate and install point out without refusing: keys with no effect, and the enabled units of another setup
 * that run restic. */
export function profileWarnings(paths: Paths, profiles: readonly Profile[]): string[] {
  const warnings = profiles.flatMap((profile) =>
    profile.warnings.map(
      (warning) => `${warning.file}${warning.line ? `:${warning.line}` : ''}: ${warning.key}: ${warning.message}`,
    ),
  );
  const repository = (value: string | undefined) => value?.replace(/\/+$/, '');
  for (const unit of enabledForeignResticUnits(paths)) {
    const same = profiles.filter(
      (profile) =>
        unit.repository !== undefined && repository(unit.repository) === repository(profile.env.RESTIC_REPOSITORY),
    );
    warnings.push(
      same.length > 0
        ? `${describeForeignUnit(unit)}; it backs up into the same repository as ` +
            `${same.map((profile) => profile.name).join(', ')}: two schedules would run on it`
        : describeForeignUnit(unit),
    );
  }
  return warnings;
}
