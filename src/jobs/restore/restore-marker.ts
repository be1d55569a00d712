/**
 * The marker of a database restore in progress: what it has changed in the target cluster (the
 * databases it created, those it renamed aside) and its work folder, written before each change.
 * A restore that fails undoes them itself; one that was killed is undone by the next restore of
 * the profile, before it does anything else.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context.js';
import { openFolderBelow } from '../../files/folder.js';
import { removeFileSafely, removeTree, writeFileSafely } from '../../files/write.js';
import { quoteIdentifier } from '../../formats/sql-text.js';
import { onHost, type Paths } from '../../paths.js';
import { queryTarget, type RestoreTarget } from '../../tools/postgres.js';
import { emptyAsOwner } from '../database/archive-dump.js';

export interface RestoreMarker {
  pid: number;
  start: string;
  target: RestoreTarget;
  /** Databases this restore created (dropped again when it fails). */
  created: string[];
  /** Databases it renamed aside (`from` gets its name back when it fails). */
  renamed: Array<{ from: string; to: string }>;
  /** Its work folder, and the folders in it (relative) that belong to the database's OS user. */
  work?: string;
  owned?: string[];
}

/** `name`: <profile>.restore for the restore command, <profile>.pg-verify for the drill. */
function markerPath(paths: Paths, name: string): string {
  return path.posix.join(paths.stateDir, `${name}.marker.json`);
}

export function readRestoreMarker(paths: Paths, name: string): RestoreMarker | undefined {
  try {
    return JSON.parse(fs.readFileSync(onHost(paths, markerPath(paths, name)), 'utf8')) as RestoreMarker;
  } catch {
    return undefined;
  }
}

export function writeRestoreMarker(paths: Paths, name: string, marker: RestoreMarker): void {
  writeFileSafely(paths.root, markerPath(paths, name), `${JSON.stringify(marker)}\n`, {
    mode: 0o600,
    createFolders: 0o755,
  });
}

/** Remove a restore's work folder, its database user's parts emptied by that user first. */
export async function removeWork(context: Context, marker: RestoreMarker): Promise<void> {
  if (!marker.work) return;
  for (const relative of marker.owned ?? []) {
    let open;
    try {
      open = openFolderBelow(context.paths.root, marker.work, relative);
    } catch {
      continue; // not extracted (yet): nothing of another account's there
    }
    try {
      await emptyAsOwner(context, open);
    } finally {
      open.close();
    }
  }
  removeTree(context.paths.root, marker.work);
}

/**
 * Undo what the marker says, in the target cluster: drop the databases the restore created, give
 * the renamed ones their names back; then remove the work folder and the marker. What could not be
 * undone is returned, a sentence each, with the command that does it.
 */
export async function undoRestore(context: Context, name: string, marker: RestoreMarker): Promise<string[]> {
  const problems: string[] = [];
  const run = async (sql: string, what: string, fix: string) => {
    try {
      await queryTarget(context.runner, marker.target, 'template1', sql);
      context.log.info(what);
    } catch (error) {
      problems.push(`${what} failed (${(error as Error).message.split('\n')[0]}): ${fix}`);
    }
  };
  for (const database of marker.created) {
    const sql = `DROP DATABASE IF EXISTS ${quoteIdentifier(database)}`;
    await run(sql, `dropped the half-restored database ${database}`, `run ${sql}`);
  }
  for (const { from, to } of marker.renamed) {
    const sql = `ALTER DATABASE ${quoteIdentifier(to)} RENAME TO ${quoteIdentifier(from)}`;
    await run(sql, `renamed ${to} back to ${from}`, `run ${sql}`);
  }
  await removeWork(context, marker);
  if (problems.length === 0) removeFileSafely(context.paths.root, markerPath(context.paths, name));
  return problems;
}

export function removeRestoreMarker(paths: Paths, name: string): void {
  removeFileSafely(paths.root, markerPath(paths, name));
}
