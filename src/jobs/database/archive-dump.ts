/**
 * PG_DUMP_FORMAT=directory: while replay is paused, the globals (pg_dumpall --globals-only) and one
 * pg_dump directory archive per database, the large ones several tables at once, the small ones
 * side by side, all of the same replay point; once replay is resumed, restic stores the folder as
 * one snapshot. The folder lives in the spool folder (root's alone); its databases/ belongs to the
 * database's OS user, whose pg_dump reaches it through a descriptor (/proc/self/fd/3), so that no
 * folder above it is opened to anyone.
 */
import { formatBytes } from '../../reporting/format.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../../context.js';
import { ExitCode, JobError } from '../../errors.js';
import { openFolder, openFolderOf, type OpenFolder } from '../../files/folder.js';
import { createFileExclusively, makeFolder, makeFolderFor, removeTree, writeFileSafely } from '../../files/write.js';
import {
  ARCHIVE_FORMAT,
  DATABASES_FOLDER,
  GLOBALS_FILE,
  MANIFEST_FILE,
  encodeDatabaseName,
  manifestText,
  type ArchiveDatabase,
  type ArchiveManifest,
} from '../../formats/dump-archive.js';
import { onHost, type Paths } from '../../paths.js';
import type { Profile } from '../../profile/model.js';
import { toolBinary } from '../../exec/tools.js';
import { account, type Account } from '../../tools/accounts.js';
import {
  databaseDumpCommand,
  databasesToDump,
  dumpStderrWorthShowing,
  freeConnections,
  globalsDumpStage,
  libpqEnvironment,
  type DatabaseInfo,
} from '../../tools/postgres.js';
import { RESTIC_EXIT, parseBackupLine, type BackupSummary } from '../../tools/restic.js';
import { callRestic } from '../restic-call.js';
import type { DumpRun, DumpWriter } from './dump-writer.js';
import { spoolFolder } from './spool.js';

// A database this large is dumped alone with every job; smaller ones are dumped side by side, a job each.
const LARGE_DATABASE_BYTES = 64 * 1024 * 1024;
// Connections kept free beyond the dumps' own: the job's checks of the standby while it is paused.
const SPARE_CONNECTIONS = 2;
// How the database's programs reach a folder of the archive: the descriptor they are given as fd 3.
export const FOLDER_ON_FD = '/proc/self/fd/3';

/** The archive folder of a profile's runs, as the target system sees it (one run at a time holds the lock). */
export function archiveFolder(paths: Paths, profile: Profile): string {
  return path.posix.join(spoolFolder(paths, profile), `${profile.name}.pg-dump`);
}

/**
 * Empty a folder that belongs to another account (the database's OS user) as that account, through
 * its descriptor: root never walks a folder another account can change. A folder of root's is left.
 */
export async function emptyAsOwner(context: Context, open: OpenFolder): Promise<void> {
  const stat = fs.fstatSync(open.fd);
  if (stat.uid === 0) return;
  const asOwner = ['--reuid', String(stat.uid), '--regid', String(stat.gid), '--clear-groups', '--'];
  const find = [toolBinary('find'), '-H', FOLDER_ON_FD, '-mindepth', '1', '-delete'];
  const emptied = await context.runner.run('setpriv', [...asOwner, ...find], { fd3: open.fd });
  if (emptied.exitCode !== 0) context.log.error(`could not empty ${open.shown}: ${emptied.stderr.trim()}`);
}

/** Remove an archive folder (a run's, or one a killed run left): its databases/ emptied by its owner first. */
export async function removeArchive(context: Context, folder: string): Promise<void> {
  const { paths } = context;
  const databases = path.posix.join(folder, DATABASES_FOLDER);
  const stat = fs.lstatSync(onHost(paths, databases), { throwIfNoEntry: false });
  if (stat?.isDirectory() && stat.uid !== 0) {
    const open = openFolderOf(paths.root, databases, stat.uid);
    try {
      await emptyAsOwner(context, open);
    } finally {
      open.close();
    }
  }
  removeTree(paths.root, folder);
}

/** The bytes of the files under a folder (on this host), links not followed. */
function treeBytes(folder: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) total += treeBytes(full);
    else if (entry.isFile()) total += fs.lstatSync(full).size;
  }
  return total;
}

/** How the dumps may run: pg_dump's jobs (PG_DUMP_JOBS or the cores) and the standby's connections to spare. */
interface DumpBudget {
  jobs: number;
  /** A small database may be dumped beside a large one (its connection is free). */
  beside: boolean;
}

/** The budget of this run, within the standby's free connections (one per job, one more for each pg_dump). */
async function dumpBudget(context: Context, profile: Profile): Promise<DumpBudget> {
  const wanted = profile.values.PG_DUMP_JOBS ?? os.availableParallelism();
  const free = (await freeConnections(context.runner, profile)) - SPARE_CONNECTIONS;
  const jobs = Math.max(1, Math.min(wanted, free - 1));
  return { jobs, beside: free >= jobs + 2 };
}

/**
 * Run the dumps: the large databases one at a time with every job, the small ones side by side, one
 * of them beside the large ones (which leave a core idle while their largest table ends) when the
 * standby has the connection. After a failure nothing new starts, and what runs is stopped; every
 * started dump has ended when this returns.
 */
async function dumpEach(
  run: (database: DatabaseInfo, jobs: number) => Promise<void>,
  databases: readonly DatabaseInfo[],
  budget: DumpBudget,
  cancel: AbortController,
): Promise<void> {
  // The first failure is the cause: the dumps it stopped fail after it.
  let cause: unknown;
  const dump = (database: DatabaseInfo, count: number) =>
    run(database, count).catch((error: unknown) => {
      cause ??= error;
      throw error;
    });
  const large = databases.filter((database) => database.bytes >= LARGE_DATABASE_BYTES);
  const queue = databases.filter((database) => database.bytes < LARGE_DATABASE_BYTES);
  const worker = async () => {
    for (let next = queue.shift(); next && !cancel.signal.aborted; next = queue.shift()) await dump(next, 1);
  };
  const largeOnes = async () => {
    for (const database of large) if (!cancel.signal.aborted) await dump(database, budget.jobs);
  };
  const besideLarge = large.length > 0 && budget.beside ? [worker()] : [];
  await Promise.allSettled([largeOnes(), ...besideLarge]);
  if (!cancel.signal.aborted)
    await Promise.allSettled(Array.from({ length: Math.min(budget.jobs, queue.length) }, worker));
  if (cause) throw cause;
}

/** The writer of a run, its folder made (empty, a leftover removed) before anything is paused. */
export async function archiveWriter(run: DumpRun, source: ArchiveManifest['source']): Promise<DumpWriter> {
  const { restic, host } = run;
  const { context, profile } = restic;
  const { paths, log } = context;
  const folder = archiveFolder(paths, profile);
  const databasesFolder = path.posix.join(folder, DATABASES_FOLDER);
  let manifest: ArchiveManifest | undefined;
  await removeArchive(context, folder);
  makeFolder(paths.root, folder, 0o700);
  const user = profile.values.PG_OS_USER;
  const owner: Account | undefined = user ? await account(context.runner, user) : undefined;
  if (owner) makeFolderFor(paths.root, databasesFolder, 0o700, owner);
  else makeFolder(paths.root, databasesFolder, 0o700);

  /** The archive of one database, as its OS user writes it through fd 3. */
  const dumpDatabase = async (
    database: DatabaseInfo,
    jobs: number,
    cancel: AbortController,
  ): Promise<ArchiveDatabase> => {
    const open = owner ? openFolderOf(paths.root, databasesFolder, owner.uid) : openFolder(paths.root, databasesFolder);
    const name = encodeDatabaseName(database.name);
    const started = Date.now();
    try {
      const command = databaseDumpCommand(profile, database.name, `${FOLDER_ON_FD}/${name}`, jobs);
      const result = await context.runner.run(command.tool, command.args, {
        env: libpqEnvironment(profile),
        fd3: open.fd,
        cancel: cancel.signal,
      });
      const said = dumpStderrWorthShowing(result.stderr.split('\n'));
      if (result.exitCode !== 0) {
        cancel.abort();
        const how = result.signal ? `signal ${result.signal}` : `exit ${result.exitCode}`;
        throw new JobError(
          `pg_dump of ${database.name} failed (${how}):\n${said.slice(-5).join('\n')}`,
          ExitCode.DumpFailed,
        );
      }
      said.forEach((line) => log.warn(`pg_dump of ${database.name}: ${line}`));
    } finally {
      open.close();
    }
    const seconds = (Date.now() - started) / 1000;
    const archiveBytes = treeBytes(onHost(paths, path.posix.join(databasesFolder, name)));
    log.info(
      `dumped ${database.name} (${formatBytes(database.bytes)} on the server) in ${seconds.toFixed(1)} s with ` +
        `${jobs} job(s)`,
    );
    return {
      name: database.name,
      folder: `${DATABASES_FOLDER}/${name}`,
      bytes: database.bytes,
      archiveBytes,
      jobs,
      seconds,
    };
  };

  return {
    onDisk: { archive: folder },
    write: async (_tags, state) => {
      const taken = new Date().toISOString();
      // The globals are dumped while the databases are listed: every step here holds replay paused.
      const globals = createFileExclusively(paths.root, path.posix.join(folder, GLOBALS_FILE), 0o600);
      let listed;
      try {
        listed = await Promise.all([
          databasesToDump(context.runner, profile),
          dumpBudget(context, profile),
          context.runner.pipeline([globalsDumpStage(profile)], { stdout: globals }),
        ]);
      } finally {
        fs.closeSync(globals);
      }
      const [databases, budget, [globalsResult]] = listed;
      if (globalsResult!.exitCode !== 0 || globalsResult!.signal) {
        return {
          warnings: [],
          failure: {
            message: `pg_dumpall --globals-only failed:\n${globalsResult!.stderr.trim()}`,
            exitCode: ExitCode.DumpFailed,
          },
        };
      }
      const cancel = new AbortController();
      const dumped: ArchiveDatabase[] = [];
      try {
        await dumpEach(
          async (database, count) => void dumped.push(await dumpDatabase(database, count, cancel)),
          databases,
          budget,
          cancel,
        );
      } catch (error) {
        if (!(error instanceof JobError)) throw error;
        return { warnings: [], failure: { message: error.message, exitCode: error.exitCode } };
      }
      manifest = {
        format: ARCHIVE_FORMAT,
        version: 1,
        profile: profile.name,
        host,
        taken,
        source,
        lsn: source === 'standby' ? state.replayLsn : null,
        timeline: source === 'standby' ? state.timeline : null,
        replayedUntil:
          source === 'standby' && state.replayTimestamp ? new Date(state.replayTimestamp).toISOString() : null,
        serverMajor: state.serverMajor,
        globals: GLOBALS_FILE,
        databases: databases.map((database) => dumped.find((item) => item.name === database.name)!),
      };
      writeFileSafely(paths.root, path.posix.join(folder, MANIFEST_FILE), manifestText(manifest), { mode: 0o600 });
      return { warnings: [] };
    },
    store: async (tags) => {
      const databaseTags = manifest!.databases.map((database) => `database:${encodeDatabaseName(database.name)}`);
      let summary: BackupSummary | undefined;
      const args = [
        'backup',
        '--json',
        '--host',
        host,
        ...[...tags, 'format:directory', ...databaseTags].flatMap((tag) => ['--tag', tag]),
      ];
      try {
        const result = await callRestic(
          restic,
          'restic backup of the dump',
          [...args, '--', onHost(paths, folder)],
          {
            onStdoutLine: (line) => (summary = parseBackupLine(line) ?? summary),
          },
          [RESTIC_EXIT.incomplete],
        );
        if (result.exitCode === RESTIC_EXIT.incomplete) {
          return {
            warnings: [],
            failure: {
              message: `restic could not read all of the dump (exit 3):\n${result.stderr.trim()}`,
              exitCode: ExitCode.DumpFailed,
            },
          };
        }
      } catch (error) {
        if (!(error instanceof JobError)) throw error;
        return {
          warnings: [],
          failure: {
            message: error.message,
            exitCode: error.exitCode === ExitCode.CommandFailed ? ExitCode.ResticFailed : error.exitCode,
          },
        };
      }
      if (!summary?.snapshotId) {
        return {
          warnings: [],
          failure: {
            message: 'restic backup exited 0 without a summary: the snapshot cannot be vouched for',
            exitCode: ExitCode.ResticFailed,
          },
        };
      }
      const total = manifest!.databases.reduce((sum, database) => sum + database.archiveBytes, 0);
      log.info(`stored ${manifest!.databases.length} database archive(s), ${formatBytes(total)}`);
      return { warnings: [], summary };
    },
    finish: () => removeArchive(context, folder),
  };
}
