/**
 * Restoring databases from a per-database archive (PG_DUMP_FORMAT=directory): the chosen
 * databases' archives come out of restic into a work folder only root can enter (space checked
 * first, removed after); missing roles are created from the globals; each database is created (as
 * dumped, or under another name) and filled by pg_restore on several cores, then analysed. A
 * database that exists is never dropped: the restore is refused, or with --replace the live one is
 * renamed aside first. What fails is undone (restore-marker.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context.js';
import { ExitCode, JobError, UsageError } from '../../errors.js';
import { openFolderBelow } from '../../files/folder.js';
import { giveTree, makeFolder, removeTree, writeFileSafely } from '../../files/write.js';
import {
  GLOBALS_FILE,
  MANIFEST_FILE,
  readManifest,
  type ArchiveDatabase,
  type ArchiveManifest,
} from '../../formats/dump-archive.js';
import {
  databaseEntries,
  indexesOn,
  readArchiveList,
  renameDatabaseSql,
  schemaEntries,
  selectSchema,
  selectTable,
  sequencesOwnedBy,
  type ArchiveEntry,
  type Selection,
} from '../../formats/pg-archive-list.js';
import { globalsToRestore, type GlobalsPlan } from '../../formats/pg-globals.js';
import { conninfoFor, quoteIdentifier, quoteLiteral, showConninfo } from '../../formats/sql-text.js';
import { onHost } from '../../paths.js';
import type { Profile } from '../../profile/model.js';
import { formatBytes } from '../../reporting/format.js';
import { account, type Account } from '../../tools/accounts.js';
import { QueryError, countRowsSql, onTarget, queryTarget, type RestoreTarget } from '../../tools/postgres.js';
import { callRestic, type Restic } from '../restic-call.js';
import { FOLDER_ON_FD } from '../database/archive-dump.js';
import {
  removeRestoreMarker,
  removeWork,
  undoRestore,
  writeRestoreMarker,
  type RestoreMarker,
} from './restore-marker.js';
import type { ResticSnapshot } from './snapshots.js';

export interface DatabaseSelection {
  /** The databases asked for, or every database of the dump. */
  databases: string[] | 'all';
  /** Only this schema, or this table, of the one database asked for. */
  schema?: string;
  table?: { schema: string; table: string };
  /** The one database asked for, under this name. */
  as?: string;
}

export interface RestoreOptions {
  target: RestoreTarget;
  /** A database that exists is renamed aside first (else the restore is refused). */
  replace: boolean;
  /** Existing roles get the attributes, passwords and memberships the dump has. */
  updateRoles: boolean;
  jobs: number;
  /** Exact row counts in the summary (the drill); else the planner's estimate after ANALYZE. */
  exactRows?: boolean;
  /**
   * The session of every pg_restore connection: its settings (maintenance_work_mem for the index builds,
   * synchronous_commit for the load) are the restore's to choose.
   */
  sessionSettings?: Record<string, string>;
  /** The marker's name: the restore command's, or the drill's own (its cluster goes with its unit). */
  marker?: string;
}

export interface PlannedDatabase {
  name: string;
  /** The name it gets in the target. */
  as: string;
  archive: ArchiveDatabase;
  /** The target has a database of that name: renamed aside to this first (--replace). */
  renameAside?: string;
  /** It is created (else a schema or table goes into the existing database). */
  create: boolean;
}

export interface RestorePlan {
  snapshot: ResticSnapshot;
  manifest: ArchiveManifest;
  /** Where the archive's folder is in the snapshot. */
  archivePath: string;
  target: string;
  databases: PlannedDatabase[];
  selection: DatabaseSelection;
  roles: Pick<GlobalsPlan, 'createdRoles' | 'existingRoles' | 'createdTablespaces'>;
  work: { folder: string; neededBytes: number; freeBytes: number };
}

export interface DatabaseSummary {
  name: string;
  as: string;
  renamedAside?: string;
  tables: number;
  rows: number;
  rowsExact: boolean;
  seconds: number;
  /** Foreign keys of a schema or table restored alone that point at what was not restored. */
  foreignKeysNotRestored: string[];
}

/**
 * The session settings of the restore's pg_restore connections: commits need not wait for the WAL
 * flush (a restore that fails is undone whole). maintenance_work_mem stays the server's: more
 * (256MB, 1GB) made the index builds slower on 2 cores (docs/benchmarks.md).
 */
export const RESTORE_SESSION: Record<string, string> = {
  synchronous_commit: 'off',
};

const WORK_FOLDER = 'restore';

/** The name the restore's marker is kept under: <profile>.<marker>.marker.json. */
const markerOf = (profile: Profile, options: RestoreOptions) => `${profile.name}.${options.marker ?? 'restore'}`;
// PostgreSQL's longest name, in bytes.
const MAX_NAME_BYTES = 63;

/** The name a database renamed aside gets: <name>_before_restore_<UTC time>, within PostgreSQL's 63 bytes. */
export function asideName(name: string, now = new Date()): string {
  const suffix = `_before_restore_${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
  let head = name;
  while (Buffer.byteLength(head + suffix) > MAX_NAME_BYTES) head = head.slice(0, -1);
  return head + suffix;
}

/**
 * The manifest and the globals, taken out together (one restic process: each one derives the
 * repository key again) into a folder of the work folder, read and removed.
 */
async function readArchiveHead(
  context: Context,
  restic: Restic,
  snapshot: ResticSnapshot,
  archivePath: string,
): Promise<{ manifest: ArchiveManifest; globals: string }> {
  const { paths } = context;
  const head = path.posix.join(paths.stateDir, WORK_FOLDER, `head.${process.pid}`);
  makeFolder(paths.root, head, 0o700);
  try {
    await callRestic(restic, 'reading the dump manifest and globals', [
      'restore',
      snapshot.id,
      '--target',
      onHost(paths, head),
      ...[MANIFEST_FILE, GLOBALS_FILE].flatMap((file) => ['--include', path.posix.join(archivePath, file)]),
    ]);
    const read = (file: string) => {
      const restored = onHost(paths, path.posix.join(head, archivePath, file));
      return fs.existsSync(restored) ? fs.readFileSync(restored, 'utf8') : undefined;
    };
    const text = read(MANIFEST_FILE);
    const manifest = text === undefined ? { problem: `it holds no ${MANIFEST_FILE}` } : readManifest(text);
    if ('problem' in manifest)
      throw new JobError(`snapshot ${snapshot.short_id}: ${manifest.problem}`, ExitCode.RestoreFailed);
    const globals = read(manifest.globals);
    if (globals === undefined)
      throw new JobError(`snapshot ${snapshot.short_id}: it holds no ${manifest.globals}`, ExitCode.RestoreFailed);
    return { manifest, globals };
  } finally {
    removeTree(paths.root, head);
  }
}

/** What the target cluster is: never a standby, not older than the dump, and its databases, roles and tablespaces. */
async function inspectTarget(context: Context, options: RestoreOptions, manifest: ArchiveManifest) {
  let rows: string[][];
  try {
    rows = await queryTarget(
      context.runner,
      options.target,
      'template1',
      `SELECT pg_is_in_recovery(), current_user, current_setting('server_version_num')::int / 10000,
        (SELECT string_agg(encode(convert_to(datname, 'UTF8'), 'hex'), ' ') FROM pg_database),
        (SELECT string_agg(encode(convert_to(rolname, 'UTF8'), 'hex'), ' ') FROM pg_roles),
        (SELECT string_agg(encode(convert_to(spcname, 'UTF8'), 'hex'), ' ') FROM pg_tablespace)`,
    );
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    throw new UsageError(
      `cannot connect to the target cluster (--to ${showConninfo(options.target.pairs)}): ${error.message}`,
    );
  }
  const [recovery, currentUser = '', major = '0', databases = '', roles = '', tablespaces = ''] = rows[0] ?? [];
  const names = (hex: string) =>
    new Set(
      hex
        .split(' ')
        .filter(Boolean)
        .map((item) => Buffer.from(item, 'hex').toString('utf8')),
    );
  if (recovery === 't') {
    throw new UsageError(
      `the target (--to ${showConninfo(options.target.pairs)}) is a standby, in recovery: it takes no writes, and a ` +
        "standby is not where a backup goes back to. Name the primary, or a cluster of the restore's own",
    );
  }
  if (Number(major) < manifest.serverMajor) {
    throw new UsageError(
      `the target runs PostgreSQL ${major}, older than the dump's ${manifest.serverMajor}: restore into PostgreSQL ` +
        `${manifest.serverMajor} or newer`,
    );
  }
  return { currentUser, databases: names(databases), roles: names(roles), tablespaces: names(tablespaces) };
}

/** The archive databases the selection names; every unknown name at once, with those the dump has. */
function chosenDatabases(manifest: ArchiveManifest, selection: DatabaseSelection): ArchiveDatabase[] {
  if (selection.databases === 'all') return manifest.databases;
  const missing = selection.databases.filter((name) => !manifest.databases.some((database) => database.name === name));
  if (missing.length > 0) {
    const has = manifest.databases.map((database) => database.name).join(', ');
    throw new UsageError(`the dump has no database ${missing.join(', ')}: it has ${has}`);
  }
  return selection.databases.map((name) => manifest.databases.find((database) => database.name === name)!);
}

/** Plan the restore, refusing (before anything changes) what would replace what exists. */
export async function planArchiveRestore(
  context: Context,
  restic: Restic,
  snapshot: ResticSnapshot,
  selection: DatabaseSelection,
  options: RestoreOptions,
): Promise<RestorePlan> {
  const archivePath = snapshot.paths[0]!;
  const { manifest, globals } = await readArchiveHead(context, restic, snapshot, archivePath);
  const target = await inspectTarget(context, options, manifest);
  const partial = selection.schema !== undefined || selection.table !== undefined;
  const now = new Date();
  const refused: string[] = [];
  const databases = chosenDatabases(manifest, selection).map((archive): PlannedDatabase => {
    const as = selection.as ?? archive.name;
    const exists = target.databases.has(as);
    if (partial) return { name: archive.name, as, archive, create: !exists };
    if (exists && !options.replace) refused.push(as);
    return { name: archive.name, as, archive, create: true, ...(exists ? { renameAside: asideName(as, now) } : {}) };
  });
  if (refused.length > 0) {
    throw new JobError(
      `the target already has ${refused.length === 1 ? 'a database' : 'databases'} named ` +
        `${refused.join(', ')}; nothing ` +
        `was changed. Restore ${refused.length === 1 ? 'it' : 'one'} beside the live one with --as NEWNAME, or give ` +
        '--replace to rename the live one aside first (it is never dropped)',
      ExitCode.TargetExists,
    );
  }
  const roles = globalsToRestore(globals, target, { updateRoles: options.updateRoles });
  const folder = path.posix.join(context.paths.stateDir, WORK_FOLDER);
  const statfs = fs.statfsSync(onHost(context.paths, folder));
  const neededBytes = databases.reduce((sum, database) => sum + database.archive.archiveBytes, 0);
  return {
    snapshot,
    manifest,
    archivePath,
    target: showConninfo(options.target.pairs),
    databases,
    selection,
    roles,
    work: { folder, neededBytes, freeBytes: statfs.bavail * statfs.bsize },
  };
}

/** Where one database's archive is: below the work folder (root's alone). */
interface ArchiveAt {
  target: RestoreTarget;
  work: string;
  /** Relative to the work folder. */
  archive: string;
  /** The account the archive was given to (the target's OS user). */
  owner?: Account;
}

/** Run a PostgreSQL program on the archive of one database (fd 3) as its OS user, with a list file as fd 4. */
async function onArchive(
  context: Context,
  run: ArchiveAt & { list?: string },
  args: string[],
  options: { env?: Record<string, string>; onStderrLine?: (line: string) => void } = {},
) {
  const { paths } = context;
  const open = openFolderBelow(paths.root, run.work, run.archive);
  const list = run.list ? fs.openSync(onHost(paths, run.list), 'r') : undefined;
  try {
    const command = onTarget(run.target, 'pg_restore', args);
    return await context.runner.run(command.tool, command.args, {
      env: options.env ?? {},
      fd3: open.fd,
      ...(list === undefined ? {} : { fd4: list }),
      onStderrLine: options.onStderrLine,
    });
  } finally {
    open.close();
    if (list !== undefined) fs.closeSync(list);
  }
}

/**
 * A list file for pg_restore --use-list, in the work folder (root's alone): the archive's owner's,
 * because pg_restore opens it again through its descriptor (fd 4).
 */
function writeList(context: Context, run: ArchiveAt, name: string, entries: readonly ArchiveEntry[]): string {
  const file = path.posix.join(run.work, name);
  const text = `${entries.map((entry) => entry.line).join('\n')}\n`;
  writeFileSafely(context.paths.root, file, text, { mode: 0o600, ...(run.owner ? { owner: run.owner } : {}) });
  return file;
}

const PROGRESS = new RegExp(
  '^pg_restore: ' +
    '(processing|creating|launching|finished|connecting|executing|disabling|enabling|entering|setting|dropping)',
);

/** What pg_restore said that is not its --verbose progress. */
function restoreErrors(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !PROGRESS.test(line))
    .slice(-8)
    .join('\n');
}

/** Which entries of a schema or table restore, from the archive's list (and, for a table, its index and sequence SQL).
 * */
async function selectionOf(
  context: Context,
  run: ArchiveAt,
  entries: ArchiveEntry[],
  selection: DatabaseSelection,
): Promise<Selection | undefined> {
  if (selection.schema !== undefined) return selectSchema(entries, selection.schema);
  if (!selection.table) return undefined;
  const { schema, table } = selection.table;
  const sqlOf = async (kind: string, entriesOfKind: ArchiveEntry[]) => {
    if (entriesOfKind.length === 0) return '';
    const list = writeList(context, run, `${kind}.list`, entriesOfKind);
    const result = await onArchive(context, { ...run, list }, ['-f', '-', '-L', '/proc/self/fd/4', FOLDER_ON_FD]);
    if (result.exitCode !== 0)
      throw new JobError(`pg_restore could not read the archive: ${result.stderr.trim()}`, ExitCode.RestoreFailed);
    return result.stdout;
  };
  const indexes = indexesOn(
    await sqlOf(
      'indexes',
      entries.filter((entry) => entry.desc === 'INDEX'),
    ),
    schema,
    table,
  );
  const owned = sequencesOwnedBy(
    await sqlOf(
      'owned',
      entries.filter((entry) => entry.desc === 'SEQUENCE OWNED BY'),
    ),
    schema,
    table,
  );
  return selectTable(entries, schema, table, { indexesOnTable: indexes, ownedSequences: owned });
}

/** Restore one database of the plan (its archive already in the work folder); its summary. */
async function restoreOne(
  context: Context,
  plan: RestorePlan,
  planned: PlannedDatabase,
  run: ArchiveAt,
  options: RestoreOptions,
  marker: RestoreMarker,
  profile: Profile,
): Promise<DatabaseSummary> {
  const { runner, log, paths } = context;
  const started = Date.now();
  const listed = await onArchive(context, run, ['--create', '--list', FOLDER_ON_FD]);
  if (listed.exitCode !== 0)
    throw new JobError(
      `pg_restore could not read the archive of ${planned.name}: ${listed.stderr.trim()}`,
      ExitCode.RestoreFailed,
    );
  const entries = readArchiveList(listed.stdout);
  const selection = await selectionOf(context, run, entries, plan.selection);
  if (selection && !planned.create) await refuseExisting(context, options, planned, plan.selection, selection);
  if (selection && plan.selection.table) {
    // The table's schema comes too when the target database does not have it.
    const { schema } = plan.selection.table;
    const present = !planned.create && (await schemaExists(context, options, planned.as, schema));
    if (!present) selection.entries.unshift(...schemaEntries(entries, schema));
  }

  if (planned.renameAside) {
    marker.renamed.push({ from: planned.as, to: planned.renameAside });
    writeRestoreMarker(paths, markerOf(profile, options), marker);
    await queryTarget(
      runner,
      options.target,
      'template1',
      `ALTER DATABASE ${quoteIdentifier(planned.as)} RENAME TO ${quoteIdentifier(planned.renameAside)}`,
    );
    log.info(`renamed the live database ${planned.as} aside to ${planned.renameAside}`);
  }
  if (planned.create) {
    // The database's own statements (CREATE DATABASE with its encoding and locale, owner, comment,
    // settings, grants), for the name it gets.
    const list = writeList(context, run, 'database.list', databaseEntries(entries));
    const own = await onArchive(context, { ...run, list }, [
      '--create',
      '-f',
      '-',
      '-L',
      '/proc/self/fd/4',
      FOLDER_ON_FD,
    ]);
    if (own.exitCode !== 0)
      throw new JobError(
        `pg_restore could not read the archive of ${planned.name}: ${own.stderr.trim()}`,
        ExitCode.RestoreFailed,
      );
    marker.created.push(planned.as);
    writeRestoreMarker(paths, markerOf(profile, options), marker);
    await queryTarget(runner, options.target, 'template1', renameDatabaseSql(own.stdout, planned.name, planned.as), {
      input: true,
    });
  }

  const session = Object.entries(options.sessionSettings ?? RESTORE_SESSION).map(
    ([key, value]) => `-c ${key}=${value}`,
  );
  const env = { PGOPTIONS: session.join(' ') };
  const tablesToLoad = (selection?.tables.length ?? entries.filter((entry) => entry.desc === 'TABLE DATA').length) || 0;
  let loaded = 0;
  let lastShown = 0;
  const onStderrLine = (line: string) => {
    if (!/^pg_restore: processing data for table /.test(line)) return;
    loaded++;
    if (Date.now() - lastShown > 5000 || loaded === tablesToLoad) {
      lastShown = Date.now();
      log.info(
        `${planned.as}: loading table ${loaded} of ${tablesToLoad} ` +
          `(${line.replace(/^pg_restore: processing data for table /, '')})`,
      );
    }
  };
  const args = [
    '--verbose',
    '--exit-on-error',
    '--no-password',
    `--jobs=${options.jobs}`,
    '-d',
    conninfoFor(options.target.pairs, planned.as),
  ];
  const list = selection ? writeList(context, run, 'selection.list', selection.entries) : undefined;
  const restored = await onArchive(
    context,
    { ...run, list },
    [...args, ...(list ? ['-L', '/proc/self/fd/4'] : []), FOLDER_ON_FD],
    { env, onStderrLine },
  );
  if (restored.exitCode !== 0) {
    throw new JobError(
      `pg_restore of ${planned.name} into ${planned.as} failed (exit ` +
        `${restored.exitCode}):\n${restoreErrors(restored.stderr)}`,
      ExitCode.RestoreFailed,
    );
  }
  const foreignKeysNotRestored: string[] = [];
  if (selection && selection.foreignKeys.length > 0) {
    // Foreign keys to what was not restored cannot hold: each is tried on its own, and named when it fails.
    for (const key of selection.foreignKeys) {
      const one = writeList(context, run, 'foreign-key.list', [key]);
      const tried = await onArchive(
        context,
        { ...run, list: one },
        ['--no-password', '-d', conninfoFor(options.target.pairs, planned.as), '-L', '/proc/self/fd/4', FOLDER_ON_FD],
        { env },
      );
      if (tried.exitCode !== 0) foreignKeysNotRestored.push(key.rest.split(' ').slice(0, 3).join(' '));
    }
  }
  const analyse = onTarget(options.target, 'vacuumdb', [
    '--analyze-only',
    '--quiet',
    `--jobs=${Math.max(1, options.jobs)}`,
    ...(selection ? selection.tables.flatMap((table) => ['--table', table]) : []),
    '--dbname',
    conninfoFor(options.target.pairs, planned.as),
  ]);
  const analysed = await runner.run(analyse.tool, analyse.args, { env: {} });
  if (analysed.exitCode !== 0) log.warn(`ANALYZE of ${planned.as} failed: ${analysed.stderr.trim()}`);
  const counted = await countRows(context, options, planned.as, selection?.tables);
  return {
    name: planned.name,
    as: planned.as,
    ...(planned.renameAside ? { renamedAside: planned.renameAside } : {}),
    ...counted,
    seconds: (Date.now() - started) / 1000,
    foreignKeysNotRestored,
  };
}

async function schemaExists(
  context: Context,
  options: RestoreOptions,
  database: string,
  schema: string,
): Promise<boolean> {
  const [[found = '0'] = []] = await queryTarget(
    context.runner,
    options.target,
    database,
    `SELECT count(*) FROM pg_namespace WHERE nspname = ${quoteLiteral(schema)}`,
  );
  return Number(found) > 0;
}

/** A schema or table restored into an existing database must not be there already. */
async function refuseExisting(
  context: Context,
  options: RestoreOptions,
  planned: PlannedDatabase,
  asked: DatabaseSelection,
  selection: Selection,
): Promise<void> {
  if (asked.schema !== undefined && (await schemaExists(context, options, planned.as, asked.schema))) {
    throw new JobError(
      `database ${planned.as} of the target already has the schema ${asked.schema}; nothing was changed. Restore it ` +
        'into another database with --as NEWNAME, or rename the live schema yourself first',
      ExitCode.TargetExists,
    );
  }
  const names = selection.tables.map(quoteLiteral).join(', ') || 'NULL';
  const [[found = '0'] = []] = await queryTarget(
    context.runner,
    options.target,
    planned.as,
    `SELECT count(*) FROM information_schema.tables WHERE (table_schema || '.' || table_name) IN (${names})`,
  );
  if (Number(found) > 0) {
    throw new JobError(
      `database ${planned.as} of the target already has ${selection.tables.length === 1 ? 'the table' : 'tables of'} ` +
        `${selection.tables.join(', ')}; nothing was changed. Restore it into another database with --as NEWNAME, or ` +
        'rename or drop the live one yourself first',
      ExitCode.TargetExists,
    );
  }
}

async function countRows(context: Context, options: RestoreOptions, database: string, tables?: string[]) {
  if (options.exactRows) {
    const [[count = '0', rows = '0'] = []] = await queryTarget(
      context.runner,
      options.target,
      database,
      countRowsSql(tables),
    );
    return { tables: Number(count), rows: Number(rows), rowsExact: true };
  }
  const only = tables
    ? ` AND (n.nspname || '.' || c.relname) IN (${tables.map(quoteLiteral).join(', ') || 'NULL'})`
    : '';
  const [[count = '0', rows = '0'] = []] = await queryTarget(
    context.runner,
    options.target,
    database,
    `SELECT count(*), coalesce(sum(greatest(c.reltuples, 0))::bigint, 0)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%'${only}`,
  );
  return { tables: Number(count), rows: Number(rows), rowsExact: false };
}

/** Carry out a plan; the summary of every database. A failure undoes what this restore changed. */
export async function restoreArchive(
  context: Context,
  restic: Restic,
  profile: Profile,
  plan: RestorePlan,
  options: RestoreOptions,
): Promise<DatabaseSummary[]> {
  const { paths, log } = context;
  if (plan.work.freeBytes < plan.work.neededBytes * 1.05) {
    throw new JobError(
      `${plan.work.folder} has ${formatBytes(plan.work.freeBytes)} free, less than the ` +
        `${formatBytes(plan.work.neededBytes)} of the archives ` +
        'to restore (and a margin); nothing was changed: free space there',
      ExitCode.SpoolUnavailable,
    );
  }
  const work = path.posix.join(plan.work.folder, `${profile.name}.${process.pid}`);
  // Relative to the work folder: restic restores the archive under its path in the snapshot.
  const archives = new Map(
    plan.databases.map((database) => [
      database.name,
      path.posix.join(plan.archivePath, database.archive.folder).replace(/^\/+/, ''),
    ]),
  );
  const marker: RestoreMarker = {
    pid: process.pid,
    start: new Date().toISOString(),
    target: options.target,
    created: [],
    renamed: [],
    work,
    owned: [...archives.values()],
  };
  writeRestoreMarker(paths, markerOf(profile, options), marker);
  try {
    makeFolder(paths.root, work, 0o700);
    const includes = [
      ...plan.databases.map((database) => path.posix.join(plan.archivePath, database.archive.folder)),
      path.posix.join(plan.archivePath, plan.manifest.globals),
    ];
    const started = Date.now();
    log.info(
      `taking ${formatBytes(plan.work.neededBytes)} of archives of snapshot ${plan.snapshot.short_id} out of ` +
        `the repository`,
    );
    await callRestic(restic, 'restic restore of the archives', [
      'restore',
      plan.snapshot.id,
      '--target',
      onHost(paths, work),
      ...includes.flatMap((include) => ['--include', include]),
    ]);
    log.info(`taken out in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const owner = options.target.osUser ? await account(context.runner, options.target.osUser) : undefined;
    if (owner) for (const archive of archives.values()) giveTree(paths.root, work, archive, owner);
    const roles = globalsToRestore(
      fs.readFileSync(onHost(paths, path.posix.join(work, plan.archivePath, plan.manifest.globals)), 'utf8'),
      await inspectTarget(context, options, plan.manifest),
      { updateRoles: options.updateRoles },
    );
    if (roles.createdRoles.length + roles.createdTablespaces.length > 0 || options.updateRoles) {
      await queryTarget(context.runner, options.target, 'template1', roles.sql, { input: true });
      if (roles.createdRoles.length > 0) log.info(`created the roles ${roles.createdRoles.join(', ')}`);
    }
    const summaries: DatabaseSummary[] = [];
    for (const planned of plan.databases) {
      log.info(
        `restoring ${planned.name}${planned.as !== planned.name ? ` as ${planned.as}` : ''} ` +
          `(${formatBytes(planned.archive.archiveBytes)}) with ${options.jobs} job(s)`,
      );
      const at: ArchiveAt = {
        target: options.target,
        work,
        archive: archives.get(planned.name)!,
        ...(owner ? { owner } : {}),
      };
      summaries.push(await restoreOne(context, plan, planned, at, options, marker, profile));
    }
    await removeWork(context, marker);
    marker.work = undefined;
    removeRestoreMarker(paths, markerOf(profile, options));
    return summaries;
  } catch (error) {
    const problems = await undoRestore(context, markerOf(profile, options), marker);
    const message = error instanceof Error ? error.message : String(error);
    const undone = problems.length > 0 ? `\nNot undone:\n${problems.map((problem) => `  ${problem}`).join('\n')}` : '';
    if (error instanceof JobError || error instanceof QueryError) {
      throw new JobError(`${message}${undone}`, error instanceof JobError ? error.exitCode : ExitCode.RestoreFailed);
    }
    if (problems.length > 0) log.error(`not undone: ${problems.join('; ')}`);
    throw error;
  }
}
