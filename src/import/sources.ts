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
import type { Decision, ScriptCommand, SourceVariable, UnitSource } from './translate.js';
import { splitShellWords } from '../formats/shell-words.js';
import { otherWriter } from '../files/trust.js';

export interface Sources {
  variables: SourceVariable[];
  units: UnitSource[];
  /** Lines of shell files that run restic or dump a database. */
  scripts: ScriptCommand[];
  /** What the readers said: lines not read, readings that differ. */
  decisions: Decision[];
}

const MAX_BYTES = 1024 * 1024;

/** A file is read as a shell file when it has shell syntax that systemd's reader does not take. */
export function isShellFile(text: string): boolean {
  // [ \t]*, not \s*: a run of blank lines must not be crossed again from every line start.
  return (
    /^#!/.test(text) ||
    /^[ \t]*(export|declare|readonly)[ \t]/m.test(text) ||
    /^[ \t]*[A-Za-z_][A-Za-z0-9_]*=\(/m.test(text) ||
    /^[ \t]*(source|\.)[ \t]/m.test(text)
  );
}

/**
 * A source file's text, read from one descriptor: a link is not followed, a FIFO or device is not
 * read (opened without blocking, then fstat'ed), and no more than 1 MiB is read, whatever the file
 * became after the check.
 */
function readText(paths: Paths, file: string): string {
  // The folders above are resolved as the target system would; the file itself must not be a link.
  const host = path.join(onHost(paths, path.posix.dirname(file)), path.posix.basename(file));
  let descriptor: number;
  try {
    descriptor = fs.openSync(host, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Under --root the files are read inside the image: say where that is on this host.
    const where = paths.root === '/' ? '' : ` (under --root: ${host})`;
    if (code === 'ELOOP')
      throw new EnvironmentError(
        `${file} is a symbolic link: give import the file itself (readlink -f ${file}), so that what is read is ` +
          'what you checked',
      );
    throw new EnvironmentError(`cannot read ${file}${where}: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
  try {
    const stat = fs.fstatSync(descriptor);
    if (!stat.isFile()) throw new EnvironmentError(`${file} is not a regular file`);
    const bytes = Buffer.alloc(MAX_BYTES + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < bytes.length; length += read)
      read = fs.readSync(descriptor, bytes, length, bytes.length - length, null);
    if (length > MAX_BYTES) throw new EnvironmentError(`${file} is larger than 1 MiB: is it the right file?`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, length));
    } catch {
      throw new EnvironmentError(`${file} is not UTF-8 text`);
    }
  } finally {
    fs.closeSync(descriptor);
  }
}

/**
 * An EnvironmentFile= pattern of a template unit as a regular expression that captures the
 * instance: %i and %I become groups (the same one again must match the same text), the other
 * specifiers their fixed values. At most two groups, so a long pattern cannot make it backtrack
 * for long; a specifier that has no fixed value matches nothing.
 */
function patternOf(environmentFile: string, unitName: string): RegExp | undefined {
  const marked = environmentFile
    .replace(/^-/, '')
    .replace(/%%|%i|%I/g, (specifier) => (specifier === '%%' ? '%%' : specifier === '%i' ? '\u0001' : '\u0002'));
  const expanded = expandSpecifiers(marked, unitName.replace('@.', '@\u0001.'));
  if (/%./.test(expanded.replace(/%%/g, '')) || expanded.length > 4096) return undefined;
  const escaped = expanded.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const seen = new Set<string>();
  const pattern = escaped.replace(/[\u0001\u0002]/g, (mark) => {
    const letter = mark === '\u0001' ? 'i' : 'I';
    if (seen.has(letter)) return `\\k<${letter}>`;
    seen.add(letter);
    return letter === 'i' ? '(?<i>[^/]+)' : '(?<I>.+?)';
  });
  return new RegExp(`^${pattern}$`);
}

/** The instance name under which a unit file reads `file`, if it does. */
function instanceReading(unit: ForeignUnitFile, file: string): string | undefined {
  for (const environmentFile of settingValues(unit.settings, 'Service', 'EnvironmentFile')) {
    const match = patternOf(environmentFile, unit.name)?.exec(file);
    if (!match) continue;
    const instance = match.groups?.i ?? match.groups?.I?.replace(/\//g, '-');
    if (!unit.name.includes('@')) return unit.name;
    // A template's shared file (EnvironmentFile=-/etc/restic/restic.conf) names no instance: another line may.
    if (instance !== undefined) return unit.name.replace('@.', `@${instance}.`);
  }
  return undefined;
}

const TIMER_FOLDERS = ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];
const MONOTONIC = ['OnActiveSec', 'OnBootSec', 'OnStartupSec', 'OnUnitActiveSec', 'OnUnitInactiveSec'];

/** The timers given and in the unit folders, by name (the first folder holding a name wins, as in systemd). */
function timerTexts(paths: Paths, given: ReadonlyMap<string, string>): Map<string, string> {
  const timers = new Map([...given].filter(([name]) => name.endsWith('.timer')));
  for (const folder of TIMER_FOLDERS) {
    let names: string[];
    try {
      names = fs.readdirSync(onHost(paths, folder)).filter((name) => name.endsWith('.timer'));
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (timers.has(name)) continue;
      try {
        timers.set(name, fs.readFileSync(onHost(paths, path.posix.join(folder, name)), 'utf8'));
      } catch {
        // unreadable: not this service's timer as far as import can tell
      }
    }
  }
  return timers;
}

/** The timer that starts `service`: one of its own name, or any whose Unit= names it (or its template). */
function timerOf(service: string, timers: ReadonlyMap<string, string>): UnitSource['timer'] {
  const own = service.replace(/\.service$/, '.timer');
  const template = own.replace(/@[^.]*\./, '@.');
  const instanceOf = (name: string) => name.replace('@.', `@${/@([^.]*)\./.exec(service)?.[1] ?? ''}.`);
  const target = (text: string) => settingValues(parseUnitFile(text), 'Timer', 'Unit').at(-1);
  const named =
    [own, template].find((name) => timers.has(name) && target(timers.get(name)!) === undefined) ??
    [...timers].find(([name, text]) => {
      const unit = target(text);
      return unit !== undefined && expandSpecifiers(unit, instanceOf(name)) === service;
    })?.[0];
  if (named === undefined) return undefined;
  const settings = parseUnitFile(timers.get(named)!);
  const instance = instanceOf(named);
  return {
    file: named,
    onCalendar: settingValues(settings, 'Timer', 'OnCalendar')
      .map((value) => expandSpecifiers(value, instance))
      .filter(Boolean),
    randomizedDelay: settingValues(settings, 'Timer', 'RandomizedDelaySec').at(-1),
    monotonic: MONOTONIC.flatMap((key) =>
      settingValues(settings, 'Timer', key)
        .filter(Boolean)
        .map((value) => `${key}=${value}`),
    ),
  };
}

/** A unit's Environment= lines as variables (KEY=VALUE words, specifiers expanded). */
function unitEnvironment(unit: ForeignUnitFile, service: string): SourceVariable[] {
  return settingValues(unit.settings, 'Service', 'Environment').flatMap((line) =>
    splitShellWords(expandSpecifiers(line, service))
      .map((word) => /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(word))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => ({ key: match[1]!, value: match[2]!, file: unit.file, line: 0 })),
  );
}

export function readSources(paths: Paths, files: readonly string[], name: string, systemdMajor: number): Sources {
  const variables = new Map<string, SourceVariable>();
  const decisions: Decision[] = [];
  const givenUnits = new Map<string, { file: string; text: string }>();
  const dataFiles: string[] = [];

  const scripts: ScriptCommand[] = [];
  for (const file of files) {
    const text = readText(paths, file);
    const writer = otherWriter(onHost(paths, file), file, paths.root);
    if (writer)
      decisions.push({
        from: file,
        outcome: 'blocking',
        why:
          'unreadable' in writer
            ? writer.unreadable
            : `${writer.named} ${
                writer.uid !== undefined
                  ? `belongs to uid ${writer.uid}`
                  : `is writable by group or others (mode ${writer.mode})`
              }, ` +
              "and import would carry its keys into root's profile: read it, then make it root's " +
              `(chown root: ${writer.item}; chmod go-w ${writer.item}) or copy it into a folder of root's`,
      });
    if (/\.(service|timer)$/.test(file)) {
      givenUnits.set(path.posix.basename(file), { file, text });
      continue;
    }
    dataFiles.push(file);
    const known = new Map([...variables.values()].map((variable) => [variable.key, variable.value]));
    if (isShellFile(text)) {
      const read = readShellFile(text, known);
      for (const item of read.ignored) {
        if (/(^|[\s|;&/(])(restic|pg_dump|pg_dumpall|pg_basebackup)(\s|$)/.test(item.text)) {
          // import reads what the script passes to restic (it never runs it)
          scripts.push({ file, line: item.line, command: item.text.replace(/^(if|then|else|do|\{)\s+/, '') });
          continue;
        }
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
        const assigned = /^(?:export\s+|readonly\s+|declare\s+-\w+\s+)?([A-Za-z_]\w*)\+?=/.exec(item.text)?.[1];
        decisions.push({
          from: assigned ? `${file}:${item.line} ${assigned}` : `${file}:${item.line}`,
          outcome: assigned ? 'blocking' : 'dropped',
          why:
            `not read (${item.reason}): ${item.text}` +
            (assigned
              ? `. Settle it: --set ${assigned}=… (its value), or --drop ${assigned} if it does not matter`
              : ''),
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
  const timers = timerTexts(paths, new Map([...givenUnits].map(([key, value]) => [key, value.text])));
  const addUnit = (unitFile: ForeignUnitFile, service: string) => {
    if (seen.has(service)) return;
    seen.add(service);
    units.push({
      service,
      file: unitFile.file,
      commands: resticCommands(unitFile.settings, service),
      environment: unitEnvironment(unitFile, service),
      timer: timerOf(service, timers),
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
  return { variables: [...variables.values()], units, scripts, decisions };
}
