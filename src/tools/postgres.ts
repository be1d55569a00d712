/**
 * PostgreSQL through psql and pg_dumpall: the queries that check, pause and resume a standby, the
 * dump's argv, and the environment they run with (libpq's variables only: no restic secret).
 */
import type { Profile } from '../profile/model.js';
import { baseEnvironment, type PipelineStage, type RunResult, type Runner } from '../exec/runner.js';
import { toolBinary, type ToolName } from '../exec/tools.js';
import { conninfoFor, quoteLiteral } from '../formats/sql-text.js';

/** The names of the profile's libpq variables (PGHOST, PGPASSWORD…; not our PG_ keys). */
export function libpqVariableNames(profile: Profile): string[] {
  return Object.keys(profile.env).filter((key) => /^PG[A-Z]+$/.test(key));
}

/** libpq's variables of the profile, plus what any program needs; nothing else. */
export function libpqEnvironment(profile: Profile): Record<string, string> {
  const env = baseEnvironment();
  for (const key of libpqVariableNames(profile)) env[key] = profile.env[key]!;
  return env;
}

/** A PostgreSQL program run as PG_OS_USER (through runuser) when the profile names one. */
export function asDatabaseUser(
  profile: Profile,
  tool: ToolName,
  args: readonly string[],
): { tool: ToolName; args: string[] } {
  const user = profile.values.PG_OS_USER;
  return user ? { tool: 'runuser', args: ['-u', user, '--', toolBinary(tool), ...args] } : { tool, args: [...args] };
}

export class QueryError extends Error {
  constructor(readonly result: RunResult) {
    super(result.stderr.trim() || `psql exited ${result.exitCode}`);
  }
}

/** Run one SQL statement as an OS user (or this process's) with these libpq variables; rows of fields. */
export async function querySql(
  runner: Runner,
  osUser: string | undefined,
  env: Record<string, string>,
  sql: string,
): Promise<string[][]> {
  const args = ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-F', '\t', '-c', sql];
  const result = osUser
    ? await runner.run('runuser', ['-u', osUser, '--', toolBinary('psql'), ...args], { env })
    : await runner.run('psql', args, { env });
  if (result.exitCode !== 0) throw new QueryError(result);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

/** Run one SQL statement on the profile's server; rows of tab-separated fields. */
export function query(runner: Runner, profile: Profile, sql: string): Promise<string[][]> {
  return querySql(runner, profile.values.PG_OS_USER, libpqEnvironment(profile), sql);
}

export interface StandbyState {
  inRecovery: boolean;
  /** 'not paused', 'pause requested', 'paused', or '' on a primary. */
  pauseState: string;
  receiverStatus: string;
  timeline: string;
  replayLsn: string;
  /** Received but not yet replayed WAL, in bytes. */
  lagBytes: number;
  replayTimestamp: string;
  dataDirectory: string;
  /** The server's major version (15, 17…): the dump is restored into the same major or a newer one. */
  serverMajor: number;
}

const STATE_SQL = `SELECT pg_is_in_recovery(),
  CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() ELSE '' END,
  coalesce((SELECT status FROM pg_stat_wal_receiver), ''),
  coalesce((SELECT received_tli::text FROM pg_stat_wal_receiver), ''),
  coalesce(pg_last_wal_replay_lsn()::text, ''),
  coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint, 0),
  coalesce(pg_last_xact_replay_timestamp()::text, ''),
  current_setting('data_directory'),
  current_setting('server_version_num')::int / 10000`;

export async function standbyState(runner: Runner, profile: Profile): Promise<StandbyState> {
  const [row = []] = await query(runner, profile, STATE_SQL);
  return {
    inRecovery: row[0] === 't',
    pauseState: row[1] ?? '',
    receiverStatus: row[2] ?? '',
    timeline: row[3] ?? '',
    replayLsn: row[4] ?? '',
    lagBytes: Number(row[5] ?? 0),
    replayTimestamp: row[6] ?? '',
    dataDirectory: row[7] ?? '',
    serverMajor: Number(row[8] ?? 0),
  };
}

/** What the server shows of the HA managers that may run beside it. */
export interface HaManagerSigns {
  /** Patroni's own connections (application_name Patroni…) are open on this node. */
  patroni: boolean;
  /** repmgr's library is preloaded (repmgrd needs it). */
  repmgr: boolean;
}

export async function haManagerSigns(runner: Runner, profile: Profile): Promise<HaManagerSigns> {
  const [row = []] = await query(
    runner,
    profile,
    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'client backend' AND " +
      "application_name LIKE 'Patroni%'), " +
      "current_setting('shared_preload_libraries') ~ '(^|[ ,])repmgr($|[ ,])'",
  );
  return { patroni: row[0] === 't', repmgr: row[1] === 't' };
}

export async function pauseReplay(runner: Runner, profile: Profile): Promise<void> {
  await query(runner, profile, 'SELECT pg_wal_replay_pause()');
}

/** Resume replay on a node still in recovery, in one call (pg_wal_replay_resume() fails on a promoted node). */
export async function resumeReplayIfStandby(runner: Runner, profile: Profile): Promise<void> {
  await query(
    runner,
    profile,
    "SELECT CASE WHEN pg_is_in_recovery() THEN (SELECT 'resumed' FROM pg_wal_replay_resume()) ELSE 'not in " +
      "recovery' END",
  );
}

export async function replayPauseState(runner: Runner, profile: Profile): Promise<string> {
  const [row = []] = await query(
    runner,
    profile,
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() ELSE 'not in recovery' END",
  );
  return row[0] ?? '';
}

export const COMPRESSORS = {
  none: { suffix: '.sql', stage: undefined },
  gzip: { suffix: '.sql.gz', stage: { tool: 'gzip', args: ['--rsyncable', '-c'] } },
  zstd: { suffix: '.sql.zst', stage: { tool: 'zstd', args: ['--rsyncable', '-q', '-c'] } },
} as const;

/** The server's major version, asked from the profile's server. */
export async function serverMajor(runner: Runner, profile: Profile): Promise<number> {
  const [row = []] = await query(runner, profile, "SELECT current_setting('server_version_num')::int / 10000");
  return Number(row[0]);
}

// pg_dump's advice about repmgr's own "nodes" table, whose foreign key points at itself: it is about
// --data-only dumps and says nothing about a full dump such as pg_dumpall's, which restores it whole.
const HARMLESS_DUMP_WARNING = /^pg_dump: warning: there are circular foreign-key constraints on this table:$/;
const HARMLESS_FOLLOW_UP = /^pg_dump: (detail|hint): /;

/** The lines of a dump's stderr worth an operator's attention: all but pg_dump's known harmless advice. */
export function dumpStderrWorthShowing(lines: readonly string[]): string[] {
  const shown: string[] = [];
  let inHarmless = false;
  for (const line of lines) {
    if (HARMLESS_DUMP_WARNING.test(line)) inHarmless = true;
    else if (!(inHarmless && HARMLESS_FOLLOW_UP.test(line))) {
      inHarmless = false;
      if (line.trim() !== '') shown.push(line);
    }
  }
  return shown;
}

/** pg_dumpall of every database but the excluded ones, as the database user. */
function dumpStage(profile: Profile): PipelineStage {
  const exclude = profile.values.PG_DUMP_EXCLUDE_DATABASES.flatMap((database) => ['--exclude-database', database]);
  const dump = asDatabaseUser(profile, 'pg_dumpall', ['--clean', '--if-exists', ...exclude]);
  return { tool: dump.tool, args: dump.args, env: libpqEnvironment(profile) };
}

/**
 * The profile's compressor, if any. With `parallelGzip`, gzip mode runs pigz (same .gz format and
 * --rsyncable, on every core) instead of gzip, which otherwise limits the whole pipeline to one
 * core's speed.
 */
function compressorStages(profile: Profile, options: { parallelGzip: boolean }): PipelineStage[] {
  const compressor = COMPRESSORS[profile.values.PG_DUMP_COMPRESSION].stage;
  if (!compressor) return [];
  return [
    {
      tool: compressor.tool === 'gzip' && options.parallelGzip ? 'pigz' : compressor.tool,
      args: [...compressor.args],
      env: baseEnvironment(),
    },
  ];
}

/** The dump and its optional compressor, as pipeline stages feeding restic. */
export function dumpStages(profile: Profile, options: { parallelGzip: boolean }): PipelineStage[] {
  return [dumpStage(profile), ...compressorStages(profile, options)];
}

/** How each PG_SPOOL_COMPRESSION writes the spool (after pg_dumpall) and reads it back into SQL. */
export const SPOOL_FORMATS = {
  none: { suffix: '.sql', label: 'uncompressed', write: undefined, read: { tool: 'cat', args: ['--'] } },
  zstd: {
    suffix: '.sql.zst',
    label: 'zstd',
    write: { tool: 'zstd', args: ['-1', '-T0', '-q', '-c'] },
    read: { tool: 'zstd', args: ['-d', '-q', '-c', '--'] },
  },
} as const;

/** The dump into a spool file: pg_dumpall alone, or into zstd -1 on every core (fast: the pause lasts as long as
 * pg_dumpall). */
export function spoolStages(profile: Profile): PipelineStage[] {
  const { write } = SPOOL_FORMATS[profile.values.PG_SPOOL_COMPRESSION];
  return [dumpStage(profile), ...(write ? [{ tool: write.tool, args: [...write.args], env: baseEnvironment() }] : [])];
}

/** The spool back into SQL, then the profile's compression: what restic stores is the same as when streaming. */
export function unspoolStages(profile: Profile, hostFile: string, options: { parallelGzip: boolean }): PipelineStage[] {
  const { read } = SPOOL_FORMATS[profile.values.PG_SPOOL_COMPRESSION];
  return [
    { tool: read.tool, args: [...read.args, hostFile], env: baseEnvironment() },
    ...compressorStages(profile, options),
  ];
}

/** A database of the server, with its size on disk. */
export interface DatabaseInfo {
  name: string;
  bytes: number;
}

/**
 * A psql-style name pattern (PG_DUMP_EXCLUDE_DATABASES), as pg_dumpall's --exclude-database reads
 * it: letters folded to lower case unless double-quoted, `*` any text, `?` one character.
 */
export function namePattern(pattern: string): RegExp {
  let source = '';
  let quoted = false;
  for (let at = 0; at < pattern.length; at++) {
    const character = pattern[at]!;
    if (character === '"') {
      if (quoted && pattern[at + 1] === '"') {
        source += '"';
        at++;
      } else quoted = !quoted;
    } else if (!quoted && character === '*') source += '.*';
    else if (!quoted && character === '?') source += '.';
    else source += (quoted ? character : character.toLowerCase()).replace(/[\\^$.|+()[\]{}*?]/g, '\\$&');
  }
  return new RegExp(`^(?:${source})$`, 's');
}

/**
 * The databases a per-database dump holds, largest first: every one that takes connections but
 * template1 (a template: what it holds is in every database made from it), without the excluded.
 * Names travel as hex, so that no name (a tab, a newline) can break the answer's lines.
 */
export async function databasesToDump(runner: Runner, profile: Profile): Promise<DatabaseInfo[]> {
  const rows = await query(
    runner,
    profile,
    `SELECT encode(convert_to(datname, 'UTF8'), 'hex'), pg_database_size(oid) FROM pg_database
      WHERE datallowconn AND datname <> 'template1' ORDER BY 2 DESC, 1`,
  );
  const excluded = profile.values.PG_DUMP_EXCLUDE_DATABASES.map(namePattern);
  return rows
    .map(([hex = '', bytes = '0']) => ({ name: Buffer.from(hex, 'hex').toString('utf8'), bytes: Number(bytes) }))
    .filter((database) => !excluded.some((pattern) => pattern.test(database.name)));
}

/** How many more connections the profile's server takes now (the slots reserved for superusers aside). */
export async function freeConnections(runner: Runner, profile: Profile): Promise<number> {
  const [row = []] = await query(
    runner,
    profile,
    `SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
      - coalesce(current_setting('reserved_connections', true)::int, 0)
      - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')`,
  );
  return Number(row[0] ?? 0);
}

/** libpq's connection string of one database of the profile's server (host and port come from PG* variables). */
export function databaseConninfo(database: string): string {
  return `dbname='${database.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * pg_dump of one database in the directory format, as the database user: with --create (the
 * database's own settings, comment and grants travel with it), uncompressed (restic compresses and
 * deduplicates), not synced (the folder is restic's input, not the backup), `jobs` tables at once.
 * `folder` is where it writes, as that user reaches it.
 */
export function databaseDumpCommand(
  profile: Profile,
  database: string,
  folder: string,
  jobs: number,
): { tool: ToolName; args: string[] } {
  return asDatabaseUser(profile, 'pg_dump', [
    '--format=directory',
    '--create',
    '--compress=0',
    '--no-sync',
    `--jobs=${jobs}`,
    `--file=${folder}`,
    `--dbname=${databaseConninfo(database)}`,
  ]);
}

/** pg_dumpall of the roles, their memberships and the tablespaces (the rest travels with each database). */
export function globalsDumpStage(profile: Profile): PipelineStage {
  const dump = asDatabaseUser(profile, 'pg_dumpall', ['--globals-only']);
  return { tool: dump.tool, args: dump.args, env: libpqEnvironment(profile) };
}

/**
 * A cluster a restore writes into (`restore --to`): its libpq connection pairs, and the OS user its
 * programs run as (PG_OS_USER: peer authentication on a local socket). It gets none of the
 * profile's libpq variables: those name the standby.
 */
export interface RestoreTarget {
  pairs: Array<[string, string]>;
  osUser?: string;
}

/** A PostgreSQL program run against the target as its OS user: program, argv. */
export function onTarget(
  target: RestoreTarget,
  tool: ToolName,
  args: readonly string[],
): { tool: ToolName; args: string[] } {
  return target.osUser
    ? { tool: 'runuser', args: ['-u', target.osUser, '--', toolBinary(tool), ...args] }
    : { tool, args: [...args] };
}

/** Run SQL on one database of the target; rows of tab-separated fields. `input`: a script on stdin instead. */
export async function queryTarget(
  runner: Runner,
  target: RestoreTarget,
  database: string,
  sql: string,
  options: { input?: boolean } = {},
): Promise<string[][]> {
  const args = ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-F', '\t', '-d', conninfoFor(target.pairs, database)];
  const command = onTarget(target, 'psql', options.input ? args : [...args, '-c', sql]);
  const result = await runner.run(command.tool, command.args, {
    env: baseEnvironment(),
    ...(options.input ? { input: sql } : {}),
  });
  if (result.exitCode !== 0) throw new QueryError(result);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

/** Exact row counts of every table of a database (or of `tables`, "schema.table"), in one query: [tables, rows]. */
export function countRowsSql(tables?: readonly string[]): string {
  const only = tables
    ? ` AND (table_schema || '.' || table_name) IN (${tables.map(quoteLiteral).join(', ') || 'NULL'})`
    : '';
  return `SELECT count(*), coalesce(sum((xpath('/row/c/text()', query_to_xml(
      format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text::bigint), 0)
    FROM information_schema.tables
    WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')${only}`;
}
