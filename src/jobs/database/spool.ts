/**
 * The spool of PG_DUMP_MODE=spool: the dump (zstd-compressed, or not), in a file that holds every row of
 * every database. So it lives in a folder only root can enter, on disk (a RAM file system would
 * take the memory PostgreSQL needs), is created O_EXCL|O_NOFOLLOW with mode 0600, and is removed
 * on success, on failure, and by whoever finds the run's marker after a kill.
 */
import { formatBytes } from '../../reporting/format.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context.js';
import { ExitCode } from '../../errors.js';
import { SPOOL_FORMATS, databasesToDump } from '../../tools/postgres.js';
import { createFileExclusively, makeFolder, removeFileSafely } from '../../files/write.js';
import { onHost, type Paths } from '../../paths.js';
import type { Profile } from '../../profile/model.js';
import { failure } from './standby-checks.js';

/** What the spool leaves free at least, besides 5 % of the file system. */
const SPOOL_RESERVE_FLOOR = 64 * 1024 * 1024;
// statfs(2) f_type of the file systems that keep their files in memory.
const MEMORY_FILE_SYSTEMS: Record<number, string> = { 0x01021994: 'tmpfs', 0x858458f6: 'ramfs' };

/** The spool folder, as the target system sees it. */
export function spoolFolder(paths: Paths, profile: Profile): string {
  return profile.values.PG_SPOOL_DIR ?? path.posix.join(paths.stateDir, 'spool');
}

/** The spool file of one run: .sql, or .sql.zst with PG_SPOOL_COMPRESSION=zstd. */
export function spoolFile(paths: Paths, profile: Profile, runId: string): string {
  return path.posix.join(
    spoolFolder(paths, profile),
    `${profile.name}.${runId}${SPOOL_FORMATS[profile.values.PG_SPOOL_COMPRESSION].suffix}`,
  );
}

/** The bytes of the databases the dump holds: their SQL is almost always smaller, compressed far smaller. */
async function databaseBytes(context: Context, profile: Profile): Promise<number> {
  const databases = await databasesToDump(context.runner, profile);
  return databases.reduce((sum, database) => sum + database.bytes, 0);
}

/**
 * Why the spool cannot take this run's dump, if it cannot: checked before anything is paused.
 * Makes the folder (0700) when it is missing.
 */
export async function spoolProblem(context: Context, profile: Profile): Promise<string | undefined> {
  const { paths } = context;
  const folder = spoolFolder(paths, profile);
  try {
    makeFolder(paths.root, folder, 0o700);
  } catch (error) {
    return (error as Error).message;
  }
  const stat = fs.statSync(onHost(paths, folder));
  if ((stat.mode & 0o077) !== 0)
    return `${folder} can be entered by other accounts (mode ${(stat.mode & 0o777).toString(8)}): chmod 700 ${folder}`;
  const fileSystem = fs.statfsSync(onHost(paths, folder));
  const memory = MEMORY_FILE_SYSTEMS[fileSystem.type];
  if (memory) return `${folder} is on a ${memory}, in memory: give PG_SPOOL_DIR a folder on disk`;
  const free = fileSystem.bavail * fileSystem.bsize;
  const databases = await databaseBytes(context, profile);
  // Uncompressed, a dump can outgrow its databases (bytea written as hex, TOAST-compressed text in full),
  // and the file system is often PostgreSQL's own: a reserve stays free for its other users.
  const uncompressed = profile.values.PG_DUMP_FORMAT === 'directory' || profile.values.PG_SPOOL_COMPRESSION === 'none';
  const dump = uncompressed ? 2 * databases : databases;
  const reserve = Math.max(SPOOL_RESERVE_FLOOR, Math.ceil(fileSystem.blocks * fileSystem.bsize * 0.05));
  if (free < dump + reserve)
    return (
      `${folder} has ${formatBytes(free)} free, less than the ${formatBytes(databases)} of the databases` +
      `${uncompressed ? ' twice over (written uncompressed, a dump can outgrow them)' : ''} plus the ` +
      `${formatBytes(reserve)} kept free for the file system's other users: free space, or give PG_SPOOL_DIR a ` +
      'larger file system'
    );
  return undefined;
}

/** Check the spool before the pause: for spool, refuse (exit 26); for auto, say why it streams instead. */
export async function chooseSpool(context: Context, profile: Profile): Promise<boolean> {
  const mode = profile.values.PG_DUMP_MODE;
  if (mode === 'stream') return false;
  const problem = await spoolProblem(context, profile);
  if (!problem) return true;
  if (mode === 'spool')
    throw failure(
      `the spool cannot take the dump: ${problem}. Nothing was paused (PG_DUMP_MODE=auto would stream instead)`,
      ExitCode.SpoolUnavailable,
    );
  context.log.warn(`streaming the dump instead of spooling it (PG_DUMP_MODE=auto): ${problem}`);
  return false;
}

/** Create the run's spool file (0600, never an existing name or a link): a descriptor the caller closes. */
export function createSpoolFile(paths: Paths, file: string): number {
  return createFileExclusively(paths.root, file, 0o600);
}

export function removeSpoolFile(paths: Paths, file: string | undefined): void {
  if (file) removeFileSafely(paths.root, file);
}

/** The spool file's size, for the log. */
export function spoolBytes(paths: Paths, file: string): number {
  try {
    return fs.statSync(onHost(paths, file)).size;
  } catch {
    return 0;
  }
}
