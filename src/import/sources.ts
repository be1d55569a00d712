/**
 * Reading what `import` is given: env files (read as systemd reads them), shell files (read as
 * bash would, without running them) and unit files, plus the operator's units found in the unit
 * folders whose EnvironmentFile= names one of the files. Reads files; writes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';
import { onHost, type Paths } from '../paths.js';
import { foreignResticUnitFiles, resticCommands, type ForeignUnitFile } from './foreign-units.js';
import { expandSpecifiers, parseUnitFile, settingValues } from '../formats/unit-file.js';
import { readEnvFile } from '../formats/read-env-file.js';
import { readShellFile } from '../formats/read-shell-file.js';
import type { Decision, SourceVariable, UnitSource } from './translate.js';

export interface Sources {
  variables: SourceVariable[];
  units: UnitSource[];
  /** What the readers said: lines not read, readings that differ. */
  decisions: Decision[];
}

const MAX_BYTES = 1024 * 1024;

/** A file is read as a shell file when it has shell syntax that systemd's reader does not take. */
export function isShellFile(text: string): boolean {
  return (
    /^#!/.test(text) ||
    /^\s*(export|declare|readonly)\s/m.test(text) ||
    /^\s*[A-Za-z_][A-Za-z0-9_]*=\(/m.test(text) ||
    /^\s*(source|\.)\s/m.test(text)
  );
}

function readText(paths: Paths, file: string): string {
  const host = onHost(paths, file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(host);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    // Under --root the files are read inside the image: say where that is on this host.
    const where = paths.root === '/' ? '' : ` (under --root: ${host})`;
    throw new EnvironmentError(`cannot read ${file}${where}: ${why}`);
  }
  if (!stat.isFile()) throw new EnvironmentError(`${file} is not a regular file`);
  if (stat.size > MAX_BYTES) throw new EnvironmentError(`${file} is larger than 1 MiB: is it the right file?`);
  const bytes = fs.readFileSync(host);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new EnvironmentError(`${file} is not UTF-8 text`);
  }
}

/** An EnvironmentFile= pattern (with %i, %I…) as a regular expression that captures the instance. */
function patternOf(environmentFile: string): RegExp {
  const escaped = environmentFile.replace(/^-/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const seen = new Set<string>();
  // The same specifier twice must match the same text: a named group, then back-references to it.
  const pattern = escaped.replace(/%([iI])/g, (_, letter: string) => {
    if (seen.has(letter)) return `\\k<${letter}>`;
    seen.add(letter);
    return letter === 'i' ? '(?<i>[^/]+)' : '(?<I>.+?)';
  });
  return new RegExp(`^${pattern.replace(/%[a-zA-Z]/g, '[^/]*')}$`);
}

/** The instance name under which a unit file reads `file`, if it does. */
function instanceReading(unit: ForeignUnitFile, file: string): string | undefined {
  for (const environmentFile of settingValues(unit.settings, 'Service', 'EnvironmentFile')) {
    const match = patternOf(environmentFile).exec(file);
    if (!match) continue;
    const instance = match.groups?.i ?? match.groups?.I?.replace(/\//g, '-');
    if (!unit.name.includes('@')) return unit.name;
    // A template's shared file (EnvironmentFile=-/etc/restic/restic.conf) names no instance: another line may.
    if (instance !== undefined) return unit.name.replace('@.', `@${instance}.`);
  }
  return undefined;
}

function timerOf(paths: Paths, service: string, given: ReadonlyMap<string, string>): UnitSource['timer'] {
  const timerName = service.replace(/\.service$/, '.timer');
  const template = timerName.replace(/@[^.]*\./, '@.');
  for (const candidate of [timerName, template]) {
    const text =
      given.get(candidate) ??
      ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system']
        .map((folder) => {
          try {
            return fs.readFileSync(onHost(paths, path.posix.join(folder, candidate)), 'utf8');
          } catch {
            return undefined;
          }
        })
        .find((found) => found !== undefined);
    if (text === undefined) continue;
    const settings = parseUnitFile(text);
    return {
      file: candidate,
      onCalendar: settingValues(settings, 'Timer', 'OnCalendar')
        .map((value) => expandSpecifiers(value, timerName))
        .filter(Boolean),
      randomizedDelay: settingValues(settings, 'Timer', 'RandomizedDelaySec').at(-1),
    };
  }
  return undefined;
}

export function readSources(paths: Paths, files: readonly string[], name: string, systemdMajor: number): Sources {
  const variables = new Map<string, SourceVariable>();
  const decisions: Decision[] = [];
  const givenUnits = new Map<string, { file: string; text: string }>();
  const dataFiles: string[] = [];

  for (const file of files) {
    const text = readText(paths, file);
    if (/\.(service|timer)$/.test(file)) {
      givenUnits.set(path.posix.basename(file), { file, text });
      continue;
    }
    dataFiles.push(file);
    const known = new Map([...variables.values()].map((variable) => [variable.key, variable.value]));
    if (isShellFile(text)) {
      const read = readShellFile(text, known);
      for (const item of read.ignored) {
        const sourced = /^\s*(?:source|\.)\s+["']?([^"'\s]+)/.exec(item.text)?.[1];
        if (sourced) {
          const given = files.find((other) => other !== file && sourced.replace(/^\$\{?\w+\}?/, '').endsWith(other));
          decisions.push({
            from: `${file}:${item.line}`,
            outcome: 'dropped',
            why: given
              ? `reads ${given}, which import reads too (files are layered in the order given)`
              : `reads another file (${sourced}): give that file to import too, before this one, or its ` +
                `settings are lost`,
          });
          continue;
        }
        decisions.push({
          from: `${file}:${item.line}`,
          outcome: /^(export\s+)?[A-Za-z_]\w*=/.test(item.text) ? 'blocking' : 'dropped',
          why: `not read (${item.reason}): ${item.text}`,
        });
      }
      for (const assignment of read.assignments) variables.set(assignment.key, { ...assignment, file });
      continue;
    }
    const read = readEnvFile(text, systemdMajor);
    for (const item of read.ignored)
      decisions.push({ from: `${file}:${item.line}`, outcome: 'dropped', why: `${item.reason}: ${item.text}` });
    // Where bash would read a line otherwise (a quote followed by a comment…), the file is an EnvironmentFile=:
    // systemd's reading is kept, and said.
    const asShell = new Map(readShellFile(text, known).assignments.map((item) => [item.key, item.value]));
    const otherSystemd = new Map(
      readEnvFile(text, systemdMajor >= 254 ? 252 : 257).assignments.map((item) => [item.key, item.value]),
    );
    for (const assignment of read.assignments) {
      variables.set(assignment.key, { ...assignment, file });
      const shell = asShell.get(assignment.key);
      if (shell !== undefined && shell !== assignment.value) {
        decisions.push({
          from: `${file}:${assignment.line} ${assignment.key}`,
          outcome: 'translated',
          why:
            `read as systemd reads it (${JSON.stringify(assignment.value)}); a shell would read ` +
            `${JSON.stringify(shell)}: check which one the old setup used`,
        });
      }
    }
    for (const [key, value] of otherSystemd) {
      if (!read.assignments.some((item) => item.key === key && item.value === value)) {
        decisions.push({
          from: `${file} ${key}`,
          outcome: 'translated',
          why:
            `systemd ${systemdMajor >= 254 ? 'before 254 (Debian 12)' : '254 and newer (Debian 13)'} reads ` +
            `${key} otherwise (a comment ending in "\\" above it): imported as this host's systemd ` +
            `${systemdMajor} reads it`,
        });
      }
    }
  }

  // The operator's units that read one of these files, and the units given by name.
  const units: UnitSource[] = [];
  const seen = new Set<string>();
  const addUnit = (unitFile: ForeignUnitFile, service: string) => {
    if (seen.has(service)) return;
    seen.add(service);
    units.push({
      service,
      file: unitFile.file,
      commands: resticCommands(unitFile.settings, service),
      timer: timerOf(paths, service, new Map([...givenUnits].map(([key, value]) => [key, value.text]))),
    });
  };
  for (const [unitName, given] of givenUnits) {
    if (!unitName.endsWith('.service')) continue;
    const unitFile: ForeignUnitFile = { name: unitName, file: given.file, settings: parseUnitFile(given.text) };
    const reading = dataFiles.map((file) => instanceReading(unitFile, file)).find(Boolean);
    addUnit(unitFile, reading ?? (unitName.includes('@.') ? unitName.replace('@.', `@${name}.`) : unitName));
  }
  for (const unitFile of foreignResticUnitFiles(paths)) {
    const reading = dataFiles.map((file) => instanceReading(unitFile, file)).find(Boolean);
    if (reading) addUnit(unitFile, reading);
  }
  return { variables: [...variables.values()], units, decisions };
}
