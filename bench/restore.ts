/**
 * The per-database archives (PG_DUMP_FORMAT=directory) and `restore`, on the data set of
 * bench/shop-data.ts, against the raw tools (as the notes postgres-formats.md measured them): how long replay
 * stays paused (against bare pg_dumpall and the SQL stream), the big database restored by the command
 * (against the manual `restic dump | awk | psql` and bare `pg_restore -j 2` from local disk), a
 * database of about 5 % of the cluster against all of them, the repository's growth per daily dump
 * against the SQL stream, node's peak memory, and which maintenance_work_mem pg_restore does best with.
 * Every restore goes into a cluster the benchmark initdb'd (bench/restore-target.ts) and is checked
 * against the source (rows, indexes, foreign keys) before it is dropped again.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readManifest, MANIFEST_FILE, type ArchiveManifest } from '../src/formats/dump-archive.js';
import { RESTORE_SESSION } from '../src/jobs/restore/archive-restore.js';
import { CLI } from '../test/helpers/cli.js';
import { startCluster, type PgCluster } from '../test/helpers/pg-cluster.js';
import { removeTempRoots } from '../test/helpers/temp-root.js';
import { folderBytes, newPgEnv, newProfileRepository, PRIMARY_PORT, type Repository } from './database.js';
import { alternate, measure, median, round, type ProcessRun } from './measure.js';
import { startRestoreTarget, type RestoreTarget } from './restore-target.js';
import {
  applyDayOfChanges,
  BIG_DATABASE,
  dataSetFacts,
  dataSetRows,
  EXCLUDED_DATABASE,
  FEW_PERCENT_DATABASE,
  loadDataSet,
  PG_DUMPALL,
  shapeQuery,
  type DataSetDatabase,
  type DataSetFacts,
} from './shop-data.js';

// After the database part has stopped its cluster: the same ports, and two more for the restore targets.
const TARGET_PORT = PRIMARY_PORT + 2;
const FRESH_TARGET_PORT = PRIMARY_PORT + 3;
/** pg_restore's jobs on every side: the cores of the machine the notes measured on. */
const RESTORE_JOBS = 2;
const PROFILE = [`PG_DUMP_EXCLUDE_DATABASES=${EXCLUDED_DATABASE}`];
const DIRECTORY_PROFILE = [...PROFILE, 'PG_DUMP_FORMAT=directory'];
const SQL_STREAM_PROFILE = [...PROFILE, 'PG_DUMP_FORMAT=sql', 'PG_DUMP_MODE=stream', 'PG_DUMP_COMPRESSION=none'];
/** maintenance_work_mem values tried with bare pg_restore (section 4 of the issue): initdb's, the restore's, more. */
const MAINTENANCE_WORK_MEM = ['64MB', '256MB', '1GB'] as const;

export interface Timed {
  runs: number[];
  median: number;
}

export interface PauseResults {
  /** `pg_dumpall > /dev/null` while replay is paused by hand. */
  pgDumpall: Timed;
  directory: { paused: Timed; job: Timed; peakRssMib: number };
  sqlStream: { paused: Timed; job: Timed; peakRssMib: number };
}

export interface OneDatabaseResults {
  database: string;
  /** Its archive's bytes (the directory dump of it). */
  archiveBytes: number;
  /** `restore --database DB --as NEW --jobs 2`, whole process. */
  job: Timed;
  jobPeakRssMib: number;
  /**
   * The command's own account of its steps (its log and summary): the archive taken out of restic, and the
   * database's restore (pg_restore, ANALYZE, the row count); the rest of `job` is start-up, reading the snapshot's
   * manifest and globals, and the checks of the target.
   */
  jobSteps?: { takenOut: number; database: number };
  /** `restic dump | awk | psql` from the SQL snapshot. */
  manual: Timed;
  /** `pg_restore --create -j 2` of the archive on local disk. */
  bare: Timed;
}

export interface FewPercentResults {
  database: string;
  /** Its share of the cluster: pg_database_size, and of the archives' bytes. */
  shareOfCluster: number;
  shareOfArchive: number;
  one: Timed;
  all: Timed;
  peakRssMib: number;
}

export interface RepositoryGrowth {
  change: string;
  /** Repository bytes after the first dump, and added by the dump after a day of changes. */
  first: { directory: number; sql: number };
  added: { directory: number; sql: number };
}

export interface SessionSettingsResults {
  /** The other settings every variant had (the restore's own, RESTORE_SESSION, but maintenance_work_mem). */
  common: string;
  /** The restore command's choice. */
  current: string;
  byMaintenanceWorkMem: Record<string, Timed>;
  fastest: string;
}

export interface RestoreResults {
  dataSet: DataSetFacts;
  pause: PauseResults;
  oneDatabase: OneDatabaseResults;
  fewPercent: FewPercentResults;
  growth: RepositoryGrowth;
  session: SessionSettingsResults;
}

function timed(values: readonly number[]): Timed {
  return { runs: values.map((value) => round(value, 3)), median: round(median(values), 3) };
}

const peakMib = (runs: readonly ProcessRun[]) => round(Math.max(...runs.map((run) => run.peakRssBytes)) / 1024 ** 2, 1);

/** The job's own measure of the pause window ("replay was paused for N s"). */
function pausedSeconds(run: ProcessRun): number {
  const paused = /replay was paused for ([\d.]+) s/.exec(run.stderr);
  if (!paused) throw new Error(`the job did not say how long replay was paused:\n${run.stderr.slice(-1000)}`);
  return Number(paused[1]);
}

const runJob = (repository: Repository) =>
  measure({ argv: [process.execPath, CLI, '--root', repository.root, 'run', 'pg-backup', 'db'] });

/** Run `body` while replay of the standby is paused (by hand, as the notes did), resumed whatever happens. */
async function whilePaused<T>(cluster: PgCluster, body: () => Promise<T>): Promise<T> {
  const standby = (statement: string) => cluster.sql(cluster.standbyPort, statement);
  standby('SELECT pg_wal_replay_pause()');
  try {
    for (let tries = 0; standby('SELECT pg_get_wal_replay_pause_state()') !== 'paused'; tries++) {
      if (tries > 100) throw new Error('replay of the standby did not pause');
      execFileSync('sleep', ['0.05']);
    }
    return await body();
  } finally {
    standby('SELECT pg_wal_replay_resume()');
  }
}

/** 2a and 2e: the pause of the directory dump and of the SQL stream against bare pg_dumpall, each job into a new
 * repository. */
async function measurePause(
  cluster: PgCluster,
  repetitions: number,
  log: (line: string) => void,
): Promise<PauseResults> {
  const variants = ['pg_dumpall', 'directory', 'sql-stream'] as const;
  const runs = await alternate(variants, repetitions, async (variant) => {
    if (variant === 'pg_dumpall') {
      const run = await whilePaused(cluster, () =>
        measure({ argv: ['bash', '-c', `${PG_DUMPALL} > /dev/null`], env: newPgEnv(cluster) }),
      );
      log(`  bare pg_dumpall (replay paused) ${run.seconds.toFixed(2)} s`);
      return { run, paused: run.seconds };
    }
    const repository = newProfileRepository(cluster, variant === 'directory' ? DIRECTORY_PROFILE : SQL_STREAM_PROFILE);
    try {
      const run = await runJob(repository);
      const paused = pausedSeconds(run);
      log(
        `  run pg-backup, ${variant}: replay paused ${paused} s, whole job ${run.seconds.toFixed(2)} s, ` +
          `node peak RSS ${round(run.peakRssBytes / 1024 ** 2, 1)} MiB`,
      );
      return { run, paused };
    } finally {
      fs.rmSync(repository.root, { recursive: true, force: true });
    }
  });
  const job = (variant: 'directory' | 'sql-stream') => ({
    paused: timed(runs[variant].map((result) => result.paused)),
    job: timed(runs[variant].map((result) => result.run.seconds)),
    peakRssMib: peakMib(runs[variant].map((result) => result.run)),
  });
  return {
    pgDumpall: timed(runs.pg_dumpall.map((result) => result.paused)),
    directory: job('directory'),
    sqlStream: job('sql-stream'),
  };
}

interface ArchiveRepositories {
  directory: Repository;
  sql: Repository;
  /** The SQL snapshot's id and its file (/postgres-<host>.sql). */
  sqlSnapshot: { id: string; file: string };
  manifest: ArchiveManifest;
}

function resticJson<T>(repository: Repository, args: string[]): T {
  return JSON.parse(execFileSync('restic', [...args, '--json'], { env: repository.env, encoding: 'utf8' })) as T;
}

/** One repository of each format, with one dump of the data set each: what the restores read, day 1 of growth. */
async function archiveRepositories(cluster: PgCluster): Promise<ArchiveRepositories> {
  const directory = newProfileRepository(cluster, DIRECTORY_PROFILE);
  const sql = newProfileRepository(cluster, SQL_STREAM_PROFILE);
  await runJob(directory);
  await runJob(sql);
  const [sqlSnapshot] = resticJson<Array<{ id: string; paths: string[] }>>(sql, ['snapshots']);
  const [archive] = resticJson<Array<{ id: string; paths: string[] }>>(directory, ['snapshots']);
  const dumped = execFileSync('restic', ['dump', archive!.id, path.posix.join(archive!.paths[0]!, MANIFEST_FILE)], {
    env: directory.env,
    encoding: 'utf8',
  });
  const manifest = readManifest(dumped);
  if ('problem' in manifest) throw new Error(`the archive's manifest: ${manifest.problem}`);
  return { directory, sql, sqlSnapshot: { id: sqlSnapshot!.id, file: sqlSnapshot!.paths[0]! }, manifest };
}

/** The big database's archive taken out of the repository onto local disk once (untimed): what bare pg_restore reads.
 * */
function archiveOnDisk(repositories: ArchiveRepositories, folder: string): string {
  const [archive] = resticJson<Array<{ id: string; paths: string[] }>>(repositories.directory, ['snapshots']);
  const database = repositories.manifest.databases.find((item) => item.name === BIG_DATABASE)!;
  const inSnapshot = path.posix.join(archive!.paths[0]!, database.folder);
  execFileSync('restic', ['restore', archive!.id, '--target', folder, '--include', inSnapshot], {
    env: repositories.directory.env,
    stdio: 'ignore',
  });
  return path.join(folder, inSnapshot);
}

/** A restored database must hold what the standby holds: rows, indexes, foreign keys. */
function checkRestored(
  cluster: PgCluster,
  target: RestoreTarget,
  source: DataSetDatabase,
  restoredAs: string = source,
): void {
  const expected = cluster.sql(cluster.standbyPort, shapeQuery(source), source);
  const restored = target.sql(shapeQuery(source), restoredAs);
  if (restored !== expected)
    throw new Error(`the restored ${restoredAs} holds ${restored}, the source ${source} ${expected}`);
}

/** pg_restore --create -j 2 of an archive on local disk, with these session settings (none: the server's). */
function bareRestore(archive: string, target: RestoreTarget, settings: Record<string, string> = {}) {
  const options = Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`);
  return measure({
    argv: [
      'pg_restore',
      '--create',
      `--jobs=${RESTORE_JOBS}`,
      '-h',
      target.socketDir,
      '-p',
      String(target.port),
      '-U',
      'postgres',
      '-d',
      'postgres',
      archive,
    ],
    env: { ...process.env, ...(options.length > 0 ? { PGOPTIONS: options.join(' ') } : {}) },
  });
}

/** The manual procedure of the operating guide: one database cut out of the SQL snapshot by awk, into psql. */
function manualRestore(repositories: ArchiveRepositories, target: RestoreTarget) {
  const extract =
    `/^-- Database "/{on = ($0 == "-- Database \\"${BIG_DATABASE}\\" dump")} ` +
    '/^-- PostgreSQL database cluster dump complete/{on=0} on';
  return measure({
    argv: [
      'bash',
      '-o',
      'pipefail',
      '-c',
      'restic dump "$SNAPSHOT" "$FILE" | awk "$EXTRACT" | ' +
        'psql -X -q -v ON_ERROR_STOP=1 -h "$TARGET_HOST" -p "$TARGET_PORT" -U postgres -d postgres > /dev/null',
    ],
    env: {
      ...repositories.sql.env,
      SNAPSHOT: repositories.sqlSnapshot.id,
      FILE: repositories.sqlSnapshot.file,
      EXTRACT: extract,
      TARGET_HOST: target.socketDir,
      TARGET_PORT: String(target.port),
    },
  });
}

/** `restic-systemd restore` of the directory snapshot; `selection` says which databases, and as what. */
function commandRestore(repository: Repository, target: RestoreTarget, selection: string[]) {
  return measure({
    argv: [
      process.execPath,
      CLI,
      '--root',
      repository.root,
      'restore',
      'db',
      ...selection,
      '--to',
      target.to,
      '--jobs',
      String(RESTORE_JOBS),
    ],
  });
}

/** How long the restore command says its steps took (medians), when it said so in every run. */
function restoreSteps(runs: readonly ProcessRun[]): OneDatabaseResults['jobSteps'] {
  const takenOut = runs.map((run) => /taken out in ([\d.]+) s/.exec(run.stderr)?.[1]);
  const database = runs.map((run) => /^restored .*, ([\d.]+) s$/m.exec(run.stdout)?.[1]);
  if ([...takenOut, ...database].some((value) => value === undefined)) return undefined;
  return {
    takenOut: round(median(takenOut.map(Number)), 2),
    database: round(median(database.map(Number)), 2),
  };
}

/** 2b: the big database by the restore command, by the manual procedure and by bare pg_restore, into one target. */
async function measureOneDatabase(
  cluster: PgCluster,
  repositories: ArchiveRepositories,
  archive: string,
  target: RestoreTarget,
  repetitions: number,
  log: (line: string) => void,
): Promise<OneDatabaseResults> {
  const restoredAs = `${BIG_DATABASE}_restored`;
  const runs = await alternate(['job', 'manual', 'bare'] as const, repetitions, async (variant) => {
    const run =
      variant === 'job'
        ? await commandRestore(repositories.directory, target, ['--database', BIG_DATABASE, '--as', restoredAs])
        : variant === 'manual'
          ? await manualRestore(repositories, target)
          : await bareRestore(archive, target);
    checkRestored(cluster, target, BIG_DATABASE, variant === 'job' ? restoredAs : BIG_DATABASE);
    target.reset([BIG_DATABASE, restoredAs]);
    const rss = variant === 'job' ? `, node peak RSS ${round(run.peakRssBytes / 1024 ** 2, 1)} MiB` : '';
    log(`  restore of ${BIG_DATABASE}, ${variant}: ${run.seconds.toFixed(2)} s${rss}`);
    return run;
  });
  const seconds = (list: readonly ProcessRun[]) => timed(list.map((run) => run.seconds));
  const steps = restoreSteps(runs.job);
  return {
    database: BIG_DATABASE,
    archiveBytes: repositories.manifest.databases.find((item) => item.name === BIG_DATABASE)!.archiveBytes,
    job: seconds(runs.job),
    jobPeakRssMib: peakMib(runs.job),
    ...(steps ? { jobSteps: steps } : {}),
    manual: seconds(runs.manual),
    bare: seconds(runs.bare),
  };
}

/** 4: bare pg_restore of the archive on disk with the restore's session settings, maintenance_work_mem varied. */
async function measureSessionSettings(
  cluster: PgCluster,
  archive: string,
  target: RestoreTarget,
  repetitions: number,
  log: (line: string) => void,
): Promise<SessionSettingsResults> {
  const runs = await alternate(MAINTENANCE_WORK_MEM, repetitions, async (memory) => {
    const run = await bareRestore(archive, target, { ...RESTORE_SESSION, maintenance_work_mem: memory });
    checkRestored(cluster, target, BIG_DATABASE);
    target.reset([BIG_DATABASE]);
    log(`  pg_restore -j ${RESTORE_JOBS}, maintenance_work_mem=${memory}: ${run.seconds.toFixed(2)} s`);
    return run.seconds;
  });
  const byMaintenanceWorkMem = Object.fromEntries(MAINTENANCE_WORK_MEM.map((memory) => [memory, timed(runs[memory])]));
  const fastest = [...MAINTENANCE_WORK_MEM].sort(
    (a, b) => byMaintenanceWorkMem[a]!.median - byMaintenanceWorkMem[b]!.median,
  )[0]!;
  const common = Object.entries(RESTORE_SESSION)
    .filter(([name]) => name !== 'maintenance_work_mem')
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');
  // Without its own setting the restore runs with the server's: initdb's 64MB on the benchmark's targets.
  const current = RESTORE_SESSION.maintenance_work_mem ?? MAINTENANCE_WORK_MEM[0];
  return { common, current, byMaintenanceWorkMem, fastest };
}

/** 2c: the database of about 5 % against every database, each run into a cluster initdb'd for it. */
async function measureFewPercent(
  cluster: PgCluster,
  repositories: ArchiveRepositories,
  facts: DataSetFacts,
  repetitions: number,
  log: (line: string) => void,
): Promise<FewPercentResults> {
  const restoredAs = `${FEW_PERCENT_DATABASE}_restored`;
  const runs = await alternate(['one', 'all'] as const, repetitions, async (variant) => {
    const target = startRestoreTarget(cluster.base, cluster.base, FRESH_TARGET_PORT);
    try {
      const run = await commandRestore(
        repositories.directory,
        target,
        variant === 'one' ? ['--database', FEW_PERCENT_DATABASE, '--as', restoredAs] : ['--all-databases', '--replace'],
      );
      if (variant === 'one') checkRestored(cluster, target, FEW_PERCENT_DATABASE, restoredAs);
      else for (const database of [BIG_DATABASE, FEW_PERCENT_DATABASE]) checkRestored(cluster, target, database);
      log(`  restore of ${variant === 'one' ? FEW_PERCENT_DATABASE : 'every database'}: ${run.seconds.toFixed(2)} s`);
      return run;
    } finally {
      target.stop();
    }
  });
  const archives = repositories.manifest.databases;
  const archiveBytes = (list: typeof archives) => list.reduce((sum, item) => sum + item.archiveBytes, 0);
  const few = facts.databases.find((item) => item.name === FEW_PERCENT_DATABASE)!;
  return {
    database: FEW_PERCENT_DATABASE,
    shareOfCluster: round(few.bytes / facts.clusterBytes, 4),
    shareOfArchive: round(
      archiveBytes(archives.filter((item) => item.name === FEW_PERCENT_DATABASE)) / archiveBytes(archives),
      4,
    ),
    one: timed(runs.one.map((run) => run.seconds)),
    all: timed(runs.all.map((run) => run.seconds)),
    peakRssMib: peakMib([...runs.one, ...runs.all]),
  };
}

/** 2d: a day of changes, then the second dump into each repository holding the first; `du -sb` before and after. */
async function measureGrowth(
  cluster: PgCluster,
  repositories: ArchiveRepositories,
  rows: DataSetFacts['rows'],
  log: (line: string) => void,
): Promise<RepositoryGrowth> {
  const first = { directory: folderBytes(repositories.directory.folder), sql: folderBytes(repositories.sql.folder) };
  const change = applyDayOfChanges(cluster, rows);
  await runJob(repositories.directory);
  await runJob(repositories.sql);
  const added = {
    directory: folderBytes(repositories.directory.folder) - first.directory,
    sql: folderBytes(repositories.sql.folder) - first.sql,
  };
  log(
    `  ${change}: directory +${round(added.directory / 1024 ** 2, 1)} MiB, SQL stream ` +
      `+${round(added.sql / 1024 ** 2, 1)} MiB`,
  );
  return { change, first, added };
}

/** The whole restore part: a cluster of its own with the data set, then 2a, 2b and 4, 2c, 2d in that order. */
export async function benchRestore(
  scale: number,
  repetitions: number,
  log: (line: string) => void,
): Promise<RestoreResults> {
  const cluster = startCluster(PRIMARY_PORT);
  const work = fs.mkdtempSync(path.join(cluster.base, 'work-'));
  let target: RestoreTarget | undefined;
  try {
    const rows = dataSetRows(scale);
    log(`loading the data set (scale ${scale}: ${rows.orders} orders, ${rows.events} events)`);
    loadDataSet(cluster, rows, log);
    const dataSet = dataSetFacts(cluster, rows);
    log(`  pg_dumpall: ${round(dataSet.sqlBytes / 1024 ** 2, 1)} MiB of SQL`);
    log('replay-pause window: directory format and SQL stream against bare pg_dumpall');
    const pause = await measurePause(cluster, repetitions, log);
    const repositories = await archiveRepositories(cluster);
    const archive = archiveOnDisk(repositories, work);
    target = startRestoreTarget(cluster.base, cluster.base, TARGET_PORT);
    log(`restore of ${BIG_DATABASE}: the command, the manual procedure, bare pg_restore`);
    const oneDatabase = await measureOneDatabase(cluster, repositories, archive, target, repetitions, log);
    log('pg_restore session settings');
    const session = await measureSessionSettings(cluster, archive, target, repetitions, log);
    target.stop();
    log(`restore of ${FEW_PERCENT_DATABASE} against every database`);
    const fewPercent = await measureFewPercent(cluster, repositories, dataSet, repetitions, log);
    log('repository growth per daily dump: directory format against the SQL stream');
    const growth = await measureGrowth(cluster, repositories, rows, log);
    return { dataSet, pause, oneDatabase, fewPercent, growth, session };
  } finally {
    target?.stop();
    cluster.stop();
    removeTempRoots();
  }
}
