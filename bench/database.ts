/**
 * The database job's single SQL file (PG_DUMP_FORMAT=sql) against the guide's shell pipeline, on one
 * real PostgreSQL 15 standby (repmgr, loopback) and the same data: throughput and node's peak memory
 * per compression mode at two dump sizes, repository growth over three days of changes, and how long
 * replay stays paused.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, runCli } from '../test/helpers/cli.js';
import { standbyProfileLines, startCluster, type PgCluster } from '../test/helpers/pg-cluster.js';
import { removeTempRoots, tempRoot, writeProfile } from '../test/helpers/temp-root.js';
import { alternate, measure, median, round, type ProcessRun } from './measure.js';

export type Mode = 'none' | 'gzip' | 'zstd';
export const MODES: readonly Mode[] = ['none', 'gzip', 'zstd'];
/** The variants of one dump: the guide's pipeline, the job in each mode, and pg_dumpall alone. */
/** Spooling (PG_DUMP_MODE=spool) with PG_DUMP_COMPRESSION=none: spool-plain (PG_SPOOL_COMPRESSION=none, the default)
 * and spool-zstd. */
export type SpoolVariant = 'spool-plain' | 'spool-zstd';
export type Variant = 'guide' | `job-${Mode}` | SpoolVariant | 'dump-only';
export const SPOOL_VARIANTS: readonly SpoolVariant[] = ['spool-plain', 'spool-zstd'];
const VARIANTS: readonly Variant[] = ['dump-only', 'guide', 'job-none', 'job-gzip', 'job-zstd', ...SPOOL_VARIANTS];

// Ports of their own, so that the benchmark never meets the test suite's clusters (25632-25699).
export const PRIMARY_PORT = 25732;
const PASSWORD = 'benchmark-repository-password';
const HOST = os.hostname();

export interface PipelineResult {
  variant: Variant;
  seconds: number;
  mibPerSecond: number;
  /** Peak RSS of the node process (the job) or of bash (the guide's pipeline), MiB. */
  peakRssMib?: number;
  repositoryMib?: number;
  pausedSeconds?: number;
  dumpSeconds?: number;
  /** PG_DUMP_MODE=spool: the spool file's bytes, which are also the peak disk use beyond the repository. */
  spoolBytes?: number;
}

export interface SizeResult {
  rows: number;
  sqlBytes: number;
  runs: Record<Variant, PipelineResult[]>;
  medians: Record<Variant, PipelineResult>;
}

export interface GrowthResult {
  /** Repository bytes added by each day's dump, per variant. */
  added: Record<'guide' | `job-${Mode}`, number[]>;
  days: string[];
}

export interface Repository {
  root: string;
  folder: string;
  env: NodeJS.ProcessEnv;
}

function sql(cluster: PgCluster, statement: string, port = cluster.primaryPort): string {
  return cluster.sql(port, statement, 'bench');
}

/** A profile "db" on the standby with these settings of its own and a new, empty repository. */
export function newProfileRepository(cluster: PgCluster, settings: readonly string[]): Repository {
  const root = tempRoot();
  fs.writeFileSync(path.join(root, 'etc/restic/db.password'), `${PASSWORD}\n`, { mode: 0o600 });
  writeProfile(
    root,
    'db',
    [
      ...standbyProfileLines(cluster),
      // No repmgrd service runs here (no systemd): the guide's `systemctl stop repmgrd` is left out on both sides.
      'PG_REPMGRD_SERVICE=',
      ...settings,
      '',
    ].join('\n'),
  );
  const init = runCli(['--root', root, 'init', 'db']);
  if (init.exitCode !== 0) throw new Error(`init failed: ${init.stderr}`);
  const folder = path.join(root, 'srv/repo');
  const env = {
    ...newPgEnv(cluster),
    RESTIC_REPOSITORY: folder,
    RESTIC_PASSWORD_FILE: path.join(root, 'etc/restic/db.password'),
    RESTIC_CACHE_DIR: path.join(root, 'var/cache/restic-systemd'),
  };
  return { root, folder, env };
}

/** The single SQL file of sections 1-3 (PG_DUMP_FORMAT=sql; the default is now the per-database archives). */
function newRepository(cluster: PgCluster, mode: Mode, spool?: SpoolVariant): Repository {
  return newProfileRepository(cluster, [
    'PG_DUMP_FORMAT=sql',
    `PG_DUMP_COMPRESSION=${mode}`,
    `PG_DUMP_MODE=${spool ? 'spool' : 'stream'}`,
    ...(spool ? [`PG_SPOOL_COMPRESSION=${spool === 'spool-zstd' ? 'zstd' : 'none'}`] : []),
  ]);
}

export function folderBytes(folder: string): number {
  return Number(execFileSync('du', ['-sb', folder], { encoding: 'utf8' }).split('\t')[0]);
}

// The guide's line, as operators run it today (with pipefail, which the guide lacks, so that a failure shows).
const GUIDE_PIPELINE =
  'runuser -u postgres -- pg_dumpall --clean | gzip --rsyncable | restic backup --host "$HOST" --stdin ' +
  '--stdin-filename "postgres-$HOST.sql.gz"';

async function runVariant(cluster: PgCluster, variant: Variant, repository?: Repository): Promise<ProcessRun> {
  if (variant === 'dump-only') {
    return measure({
      argv: ['bash', '-c', 'runuser -u postgres -- pg_dumpall --clean --if-exists > /dev/null'],
      env: newPgEnv(cluster),
    });
  }
  if (variant === 'guide')
    return measure({ argv: ['bash', '-o', 'pipefail', '-c', GUIDE_PIPELINE], env: { ...repository!.env, HOST } });
  return measure({
    argv: [process.execPath, CLI, '--root', repository!.root, 'run', 'pg-backup', 'db'],
    watch: 'pg_dumpall',
  });
}

export function newPgEnv(cluster: PgCluster): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGHOST: cluster.base,
    PGPORT: String(cluster.standbyPort),
    PGUSER: 'postgres',
    PGDATABASE: 'postgres',
  };
}

function modeOf(variant: Variant): Mode {
  if (isSpool(variant)) return 'none';
  return variant.startsWith('job-') ? (variant.slice(4) as Mode) : 'gzip';
}

const isSpool = (variant: Variant): variant is SpoolVariant => (SPOOL_VARIANTS as readonly string[]).includes(variant);
const isJob = (variant: Variant) => variant.startsWith('job-') || isSpool(variant);

/** Every variant, alternating, each job and pipeline into a new repository. */
async function measureSize(
  cluster: PgCluster,
  rows: number,
  repetitions: number,
  log: (line: string) => void,
): Promise<SizeResult> {
  const sqlBytes = Number(
    execFileSync('bash', ['-o', 'pipefail', '-c', 'runuser -u postgres -- pg_dumpall --clean --if-exists | wc -c'], {
      env: newPgEnv(cluster),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim(),
  );
  const mib = sqlBytes / 1024 / 1024;
  log(`dump of ${rows} rows: ${round(mib, 1)} MiB of SQL`);
  const runs = await alternate(VARIANTS, repetitions, async (variant) => {
    const repository =
      variant === 'dump-only'
        ? undefined
        : newRepository(cluster, modeOf(variant), isSpool(variant) ? variant : undefined);
    const run = await runVariant(cluster, variant, repository);
    const result: PipelineResult = {
      variant,
      seconds: round(run.seconds, 3),
      mibPerSecond: round(mib / run.seconds, 1),
    };
    if (repository) result.repositoryMib = round(folderBytes(repository.folder) / 1024 / 1024, 1);
    if (isJob(variant)) {
      result.peakRssMib = round(run.peakRssBytes / 1024 / 1024, 1);
      const paused = /replay was paused for ([\d.]+) s/.exec(run.stderr);
      if (paused) result.pausedSeconds = Number(paused[1]);
      const spooled = /spooled [^(]*\((\d+) bytes/.exec(run.stderr);
      if (spooled) result.spoolBytes = Number(spooled[1]);
      if (run.watchedSeconds !== undefined) result.dumpSeconds = round(run.watchedSeconds, 2);
    }
    const rss = result.peakRssMib ? `  node peak RSS ${result.peakRssMib} MiB` : '';
    const paused =
      result.pausedSeconds !== undefined
        ? `  paused ${result.pausedSeconds} s, pg_dumpall ran ${result.dumpSeconds} s`
        : '';
    const spool = result.spoolBytes !== undefined ? `  spool ${round(result.spoolBytes / 1024 / 1024, 1)} MiB` : '';
    log(`  ${variant.padEnd(11)} ${result.seconds.toFixed(2)} s  ${result.mibPerSecond} MiB/s${rss}${paused}${spool}`);
    removeTempRoots();
    return result;
  });
  const medians = Object.fromEntries(
    VARIANTS.map((variant) => {
      const list = runs[variant];
      const pick = (key: keyof PipelineResult) => {
        const values = list.map((run) => run[key]).filter((value): value is number => typeof value === 'number');
        return values.length > 0 ? round(median(values), 3) : undefined;
      };
      const result: PipelineResult = { variant, seconds: pick('seconds')!, mibPerSecond: pick('mibPerSecond')! };
      for (const key of ['peakRssMib', 'repositoryMib', 'pausedSeconds', 'dumpSeconds', 'spoolBytes'] as const) {
        const value = pick(key);
        if (value !== undefined) result[key] = value;
      }
      return [variant, result];
    }),
  ) as Record<Variant, PipelineResult>;
  return { rows, sqlBytes, runs, medians };
}

/** Wait until the standby has replayed everything the primary wrote. */
export function waitForStandby(cluster: PgCluster): void {
  const target = cluster.sql(cluster.primaryPort, 'SELECT pg_current_wal_lsn()');
  for (let tries = 0; tries < 3000; tries++) {
    if (cluster.sql(cluster.standbyPort, `SELECT pg_last_wal_replay_lsn() >= '${target}'::pg_lsn`) === 't') return;
    execFileSync('sleep', ['0.1']);
  }
  throw new Error('the standby did not catch up with the primary');
}

/** Orders: an id, a customer, a status and a note of two hex digests; about 85 bytes of SQL a row. */
function addRows(cluster: PgCluster, from: number, to: number): void {
  sql(
    cluster,
    `INSERT INTO orders SELECT i, i % 9973, (ARRAY['new','paid','shipped','delivered'])[1 + i % 4], ` +
      `md5(i::text) || ' ' || md5((i * 7)::text) FROM generate_series(${from}, ${to}) AS i`,
  );
  waitForStandby(cluster);
}

/** Three daily dumps into one repository per variant, with a day of changes between them. */
async function measureGrowth(cluster: PgCluster, rows: number, log: (line: string) => void): Promise<GrowthResult> {
  const variants = ['guide', 'job-none', 'job-gzip', 'job-zstd'] as const;
  const repositories = Object.fromEntries(
    variants.map((variant) => [variant, newRepository(cluster, modeOf(variant))]),
  ) as Record<(typeof variants)[number], Repository>;
  const added = Object.fromEntries(variants.map((variant) => [variant, [] as number[]])) as GrowthResult['added'];
  const appended = Math.round(rows * 0.02);
  const local = Math.round(rows * 0.01);
  const days = [
    'day 1: the first dump',
    `day 2: ${appended} rows appended (2 %) and ${local} neighbouring rows updated (1 %)`,
    'day 3: 0.2 % of the rows updated, scattered at random',
  ];
  const changes = [
    () => undefined,
    () => {
      addRows(cluster, rows + 1, rows + appended);
      sql(
        cluster,
        `UPDATE orders SET status = 'returned' WHERE id BETWEEN ${Math.round(rows / 3)} AND ` +
          `${Math.round(rows / 3) + local}`,
      );
    },
    () => sql(cluster, "UPDATE orders SET status = 'audited' WHERE random() < 0.002"),
  ];
  for (const [day, change] of changes.entries()) {
    change();
    waitForStandby(cluster);
    for (const variant of variants) {
      const repository = repositories[variant];
      const before = folderBytes(repository.folder);
      await runVariant(cluster, variant, repository);
      added[variant].push(folderBytes(repository.folder) - before);
    }
    log(
      `  ${days[day]}: ` +
        `${variants.map((variant) => `${variant} +${round(added[variant][day]! / 1024 / 1024, 1)} MiB`).join(', ')}`,
    );
  }
  removeTempRoots();
  return { added, days };
}

export interface DatabaseResults {
  small: SizeResult;
  large: SizeResult;
  growth: GrowthResult;
}

/** The whole database part: a cluster, the small size, growth, then the large size. */
export async function benchDatabase(
  sizes: { small: number; large: number },
  repetitions: number,
  log: (line: string) => void,
): Promise<DatabaseResults> {
  const cluster = startCluster(PRIMARY_PORT);
  try {
    cluster.sql(cluster.primaryPort, 'CREATE DATABASE bench');
    sql(cluster, 'CREATE TABLE orders (id bigint PRIMARY KEY, customer int, status text, note text)');
    log(`loading ${sizes.small} rows`);
    addRows(cluster, 1, sizes.small);
    const small = await measureSize(cluster, sizes.small, repetitions, log);
    log('repository growth over three days (one repository per variant)');
    const growth = await measureGrowth(cluster, sizes.small, log);
    const rowsNow = Number(sql(cluster, 'SELECT max(id) FROM orders'));
    log(`loading up to ${sizes.large} rows`);
    addRows(cluster, rowsNow + 1, sizes.large);
    const large = await measureSize(cluster, sizes.large, repetitions, log);
    return { small, large, growth };
  } finally {
    cluster.stop();
    removeTempRoots();
  }
}
