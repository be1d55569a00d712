/**
 * Writes and removes unit files under the unit folder (through files/write.ts: atomically, never
 * through a link), only when the content differs, and only files that carry restic-systemd's
 * marker. No systemctl here.
 */
import { realpathSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';
import { removeFileSafely, writeFileSafely } from '../files/write.js';
import { onHost, type Paths } from '../paths.js';
import { writtenByRestic } from '../formats/unit-file.js';
import { DROP_IN_NAME, GENERATOR_NAME, allDropIns, dropInFile, profileOfDropInFolder } from './names.js';
import { SETTINGS_VARIABLE, decodeSettings, type UnitSettings } from './settings.js';
import type { GeneratorFile, UnitFile } from './render.js';

const UNIT_MODE = 0o644;

export interface FilePlan {
  /** Files (relative to the unit folder) whose content or mode differs, or that do not exist. */
  toWrite: UnitFile[];
  /** Files that exist without our marker: never overwritten. */
  foreign: string[];
}

export function unitFolder(paths: Paths): string {
  return onHost(paths, paths.unitDir);
}

async function readIfExists(file: string): Promise<{ text: string; mode: number } | undefined> {
  try {
    const [text, stat] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    return { text, mode: stat.mode & 0o777 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EnvironmentError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/**
 * systemd finds no unit in a unit folder that is reached through a link (`systemctl enable` says
 * the unit "does not exist"): refused before anything is written.
 */
function checkUnitFolderIsNoLink(paths: Paths): void {
  const expected = path.join(paths.root, paths.unitDir);
  let resolved = onHost(paths, paths.unitDir);
  if (paths.root === '/') {
    try {
      resolved = realpathSync(resolved);
    } catch {
      return; // missing: it is made as a folder
    }
  }
  if (resolved !== expected) {
    throw new EnvironmentError(
      `${expected} leads to ${resolved.slice(paths.root === '/' ? 0 : paths.root.length)} through a symbolic ` +
        `link: systemd loads no unit from a unit folder reached through a link; make ${paths.unitDir} a folder. ` +
        `Nothing was changed`,
    );
  }
}

export async function planWrites(paths: Paths, files: readonly UnitFile[]): Promise<FilePlan> {
  checkUnitFolderIsNoLink(paths);
  const plan: FilePlan = { toWrite: [], foreign: [] };
  await Promise.all(
    files.map(async (file) => {
      const existing = await readIfExists(path.join(unitFolder(paths), file.relativePath));
      if (!existing) return plan.toWrite.push(file);
      if (!writtenByRestic(existing.text)) return plan.foreign.push(file.relativePath);
      if (existing.text !== file.text || existing.mode !== UNIT_MODE) plan.toWrite.push(file);
    }),
  );
  plan.toWrite.sort((a, b) => a.relativePath.localeCompare(b.relativePath));
  plan.foreign.sort();
  return plan;
}

export async function writeUnitFiles(paths: Paths, files: readonly UnitFile[]): Promise<void> {
  for (const file of files)
    writeFileSafely(paths.root, path.posix.join(paths.unitDir, file.relativePath), file.text, {
      mode: UNIT_MODE,
      createFolders: 0o755,
    });
}

/** Our files among these candidates (relative paths) that exist. */
export async function existingOwnFiles(paths: Paths, candidates: readonly string[]): Promise<string[]> {
  const owned: string[] = [];
  for (const candidate of candidates) {
    const existing = await readIfExists(path.join(unitFolder(paths), candidate));
    if (existing && writtenByRestic(existing.text)) owned.push(candidate);
  }
  return owned;
}

/** Files of these candidates (relative paths) that exist and are not ours: install would not replace them. */
export async function foreignFiles(paths: Paths, candidates: readonly string[]): Promise<string[]> {
  const foreign: string[] = [];
  for (const candidate of candidates) {
    const existing = await readIfExists(path.join(unitFolder(paths), candidate));
    if (existing && !writtenByRestic(existing.text)) foreign.push(candidate);
  }
  return foreign;
}

/** The profile's drop-ins that we wrote and that are still there. */
export function existingOwnDropIns(paths: Paths, profile: string): Promise<string[]> {
  return existingOwnFiles(paths, allDropIns(profile));
}

/** Remove files (relative paths) and the drop-in folders they leave empty. */
export async function removeUnitFiles(paths: Paths, files: readonly string[]): Promise<void> {
  for (const file of files)
    removeFileSafely(paths.root, path.posix.join(paths.unitDir, file), {
      removeEmptyFolder: path.posix.dirname(file) !== '.',
    });
}

/** The units linked from timers.target.wants/: the links `systemctl enable` makes for our timers
 * (WantedBy=timers.target). */
export async function linkedFromTimersTarget(paths: Paths): Promise<Set<string>> {
  return new Set(await fs.readdir(path.join(unitFolder(paths), 'timers.target.wants')).catch(() => [] as string[]));
}

/** Names of every profile that has one of our drop-ins in the unit folder. */
export async function installedProfiles(paths: Paths): Promise<string[]> {
  const entries = await fs.readdir(unitFolder(paths)).catch(() => [] as string[]);
  const names = new Set<string>();
  for (const entry of entries) {
    const name = profileOfDropInFolder(entry);
    if (!name) continue;
    const dropIn = await readIfExists(path.join(unitFolder(paths), entry, DROP_IN_NAME));
    if (dropIn && writtenByRestic(dropIn.text)) names.add(name);
  }
  return [...names].sort();
}

const GENERATOR_MODE = 0o755;

/** Whether the generator must be written ('write'), is up to date ('same'), or is someone else's ('foreign'). */
export async function planGenerator(paths: Paths, file: GeneratorFile): Promise<'write' | 'same' | 'foreign'> {
  const existing = await readIfExists(onHost(paths, file.path));
  if (!existing) return 'write';
  if (!writtenByRestic(existing.text)) return 'foreign';
  return existing.text === file.text && existing.mode === GENERATOR_MODE ? 'same' : 'write';
}

export function writeGenerator(paths: Paths, file: GeneratorFile): void {
  writeFileSafely(paths.root, file.path, file.text, { mode: GENERATOR_MODE, createFolders: 0o755 });
}

/** Remove our generator; its path when there was one. */
export async function removeGenerator(paths: Paths): Promise<string | undefined> {
  const file = path.posix.join(paths.generatorDir, GENERATOR_NAME);
  const existing = await readIfExists(onHost(paths, file));
  if (!existing || !writtenByRestic(existing.text)) return undefined;
  removeFileSafely(paths.root, file);
  return file;
}

/** Where systemd has generators write their units: restic-systemd's generator writes its drop-ins here. */
export const GENERATOR_OUTPUT_DIR = '/run/systemd/generator';

export interface InstalledUnit {
  /** install's drop-in in /etc/systemd/system, or the generator's in /run/systemd/generator. */
  source: 'install' | 'generator';
  /** The settings it was made from; undefined for a drop-in of a restic-systemd that did not record them. */
  settings?: UnitSettings;
}

/** The settings a unit's drop-in was made from, where systemd would take it from (install's first). */
export async function installedUnit(paths: Paths, unit: string): Promise<InstalledUnit | undefined> {
  const places: Array<[string, InstalledUnit['source']]> = [
    [paths.unitDir, 'install'],
    [GENERATOR_OUTPUT_DIR, 'generator'],
  ];
  for (const [folder, source] of places) {
    const existing = await readIfExists(onHost(paths, path.posix.join(folder, dropInFile(unit))));
    if (!existing || !writtenByRestic(existing.text)) continue;
    const recorded = new RegExp(`^Environment=${SETTINGS_VARIABLE}=(\\S+)$`, 'm').exec(existing.text)?.[1];
    return { source, settings: decodeSettings(recorded) };
  }
  return undefined;
}
