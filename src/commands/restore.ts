/**
 * `restore <name>`: one command for the day of the disaster. Databases (--database, --all-databases,
 * --schema, --table, --as, --to, --replace) from the per-database archives or the older single-file
 * SQL dumps; files (--path, --target) of the profile's file backup. --dry-run prints the plan and
 * touches nothing. Which snapshot: the newest of this profile and host, --snapshot, --at, --host.
 */
import os from 'node:os';
import type { Context } from '../context.js';
import { withCredentials } from '../credentials/unlock.js';
import { ExitCode, JobError, UsageError } from '../errors.js';
import { processAlive } from '../exec/processes.js';
import { nameParts } from '../formats/pg-archive-list.js';
import { parseConninfo } from '../formats/sql-text.js';
import {
  planArchiveRestore,
  restoreArchive,
  type DatabaseSelection,
  type DatabaseSummary,
  type RestorePlan,
} from '../jobs/restore/archive-restore.js';
import { checkFileTarget, defaultFileTarget, restoreFiles } from '../jobs/restore/file-restore.js';
import { readRestoreMarker, undoRestore } from '../jobs/restore/restore-marker.js';
import { chooseSnapshot, readTime, tagValue, type ResticSnapshot } from '../jobs/restore/snapshots.js';
import { restoreSqlDump } from '../jobs/restore/sql-restore.js';
import { openRestic } from '../jobs/restic-call.js';
import { loadProfile } from '../profile/load.js';
import type { Profile } from '../profile/model.js';
import { assertProfileName } from '../profile/name.js';
import { formatBytes } from '../reporting/format.js';

export interface RestoreArguments {
  databases: string[];
  allDatabases: boolean;
  schema?: string;
  table?: string;
  as?: string;
  to?: string;
  replace: boolean;
  updateRoles: boolean;
  jobs?: string;
  snapshot?: string;
  at?: string;
  host?: string;
  paths: string[];
  target?: string;
  dryRun: boolean;
}

type Request =
  | { kind: 'files'; paths: string[]; target: string }
  | { kind: 'databases'; selection: DatabaseSelection; to: Array<[string, string]>; jobs: number };

/** Every rule of the command line at once, before the repository is touched. */
function readRequest(name: string, args: RestoreArguments): Request {
  const problems: string[] = [];
  const databaseAsked = args.databases.length > 0 || args.allDatabases;
  const filesAsked = args.paths.length > 0 || args.target !== undefined;
  if (databaseAsked && filesAsked)
    problems.push('give databases (--database, --all-databases) or files ' + '(--path, --target), not both');
  if (!databaseAsked && !filesAsked) {
    problems.push(`say what to restore: --database DB (or --all-databases) --to "host=…", or --path P for files`);
  }
  if (args.snapshot && args.at) problems.push('--snapshot and --at both choose the snapshot: give one');
  if (args.at !== undefined) {
    const at = readTime(args.at);
    if ('problem' in at) problems.push(`--at: ${at.problem}`);
  }
  if (filesAsked) {
    for (const option of ['schema', 'table', 'as', 'to', 'jobs'] as const) {
      if (args[option] !== undefined) problems.push(`--${option} is for databases, not files`);
    }
    if (args.replace) problems.push('--replace is for databases: files come back into a new or empty folder');
    if (args.target !== undefined && !args.target.startsWith('/'))
      problems.push(`--target ${args.target}: write ` + `the folder from /`);
    if (problems.length > 0) throw new UsageError(problems.join('; '));
    return { kind: 'files', paths: args.paths, target: args.target ?? defaultFileTarget(name) };
  }
  if (args.allDatabases && args.databases.length > 0) problems.push('--all-databases and --database: give one');
  const one = args.databases.length === 1 && !args.allDatabases;
  if (args.as !== undefined && !one) problems.push('--as renames one database: give exactly one --database');
  if ((args.schema !== undefined || args.table !== undefined) && !one) {
    problems.push('--schema and --table are parts of one database: give exactly one --database');
  }
  if (args.schema !== undefined && args.table !== undefined) problems.push('--schema or --table: give one');
  if (args.replace && (args.schema !== undefined || args.table !== undefined)) {
    problems.push(
      '--replace renames a whole database aside; a schema or a table goes beside what exists, or ' +
        '--as into a new database',
    );
  }
  let table: DatabaseSelection['table'];
  if (args.table !== undefined) {
    const parts = nameParts(args.table);
    if (parts.length === 2) table = { schema: parts[0]!, table: parts[1]! };
    else problems.push(`--table ${args.table}: write it as schema.table (public.orders; "My Schema"."My Table")`);
  }
  let to: Array<[string, string]> = [];
  if (args.to === undefined)
    problems.push(
      '--to names the cluster to restore into, as libpq pairs: --to ' + '"host=/var/run/postgresql port=5432"',
    );
  else {
    const read = parseConninfo(args.to);
    if ('problem' in read) problems.push(`--to: ${read.problem}`);
    else to = read.pairs;
  }
  const jobs = args.jobs === undefined ? os.availableParallelism() : Number(args.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) problems.push(`--jobs ${args.jobs}: give a whole number of at least 1`);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return {
    kind: 'databases',
    selection: {
      databases: args.allDatabases ? 'all' : args.databases,
      ...(args.schema !== undefined ? { schema: args.schema } : {}),
      ...(table ? { table } : {}),
      ...(args.as !== undefined ? { as: args.as } : {}),
    },
    to,
    jobs,
  };
}

/** A restore killed before it finished left databases half done: undone first, and said. */
async function undoKilledRestore(context: Context, profile: Profile): Promise<void> {
  const marker = readRestoreMarker(context.paths, `${profile.name}.restore`);
  if (!marker) return;
  if (processAlive(marker.pid))
    throw new UsageError(`another restore of ${profile.name} runs (pid ` + `${marker.pid}): wait for it`);
  context.log.warn(
    `a restore of ${profile.name} (pid ${marker.pid}, ${marker.start}) did not finish: undoing ` + `what it changed`,
  );
  const problems = await undoRestore(context, `${profile.name}.restore`, marker);
  if (problems.length > 0)
    throw new JobError(`could not undo the earlier restore:\n  ` + `${problems.join('\n  ')}`, ExitCode.RestoreFailed);
}

function snapshotLine(snapshot: ResticSnapshot): string {
  const lsn = tagValue(snapshot, 'lsn');
  const point = lsn ? `, replay point ${lsn} on timeline ${tagValue(snapshot, 'timeline')}` : '';
  return (
    `snapshot ${snapshot.short_id} of ${snapshot.time.slice(0, 19).replace('T', ' ')} UTC, host ` +
    `${snapshot.hostname}${point}`
  );
}

function planLines(plan: RestorePlan): string[] {
  const lines = [`restore from ${snapshotLine(plan.snapshot)}`, `  into ${plan.target}`];
  const part = plan.selection.table
    ? ` (only the table ${plan.selection.table.schema}.${plan.selection.table.table})`
    : plan.selection.schema !== undefined
      ? ` (only the schema ${plan.selection.schema})`
      : '';
  for (const database of plan.databases) {
    const aside = database.renameAside ? `; the live ${database.as} is renamed aside to ${database.renameAside}` : '';
    const into = database.create ? `a new database ${database.as}` : `the existing database ${database.as}`;
    lines.push(
      `  ${database.name}${part}: ${formatBytes(database.archive.archiveBytes)} of archive ` +
        `(${formatBytes(database.archive.bytes)} on the server) into ${into}${aside}`,
    );
  }
  if (plan.roles.createdRoles.length > 0) lines.push(`  roles created: ${plan.roles.createdRoles.join(', ')}`);
  if (plan.roles.existingRoles.length > 0)
    lines.push(`  roles that exist, left as they are: ` + `${plan.roles.existingRoles.join(', ')}`);
  lines.push(
    `  work folder ${plan.work.folder}: needs ${formatBytes(plan.work.neededBytes)}, has ` +
      `${formatBytes(plan.work.freeBytes)} free`,
  );
  return lines;
}

function summaryLines(summaries: readonly DatabaseSummary[]): string[] {
  return summaries.flatMap((summary) => [
    `restored ${summary.name}${summary.as !== summary.name ? ` as ${summary.as}` : ''}: ${summary.tables} ` +
      `tables, ${summary.rows} rows${summary.rowsExact ? '' : ' (estimated)'}, ${summary.seconds.toFixed(1)} s`,
    ...(summary.renamedAside
      ? [
          `  the live database was renamed to ${summary.renamedAside}; once you no ` +
            `longer need it: DROP DATABASE ` +
            `"${summary.renamedAside.replaceAll('"', '""')}";`,
        ]
      : []),
    ...summary.foreignKeysNotRestored.map(
      (key) => `  foreign key not restored (it points at what was not ` + `restored): ${key}`,
    ),
  ]);
}

export async function restoreCommand(context: Context, name: string, args: RestoreArguments): Promise<void> {
  assertProfileName(name);
  const request = readRequest(name, args);
  const profile = await loadProfile(name, context.paths);
  if (request.kind === 'files') checkFileTarget(context, request.target);
  const choice = {
    ...(args.snapshot ? { snapshot: args.snapshot } : {}),
    ...(args.at ? { at: readTime(args.at) as Date } : {}),
    ...(args.host ? { host: args.host } : {}),
  };
  await withCredentials(context, profile, async (unlocked) => {
    const restic = await openRestic(context, unlocked);
    if (request.kind === 'files') {
      const snapshot = await chooseSnapshot(restic, 'backup', choice);
      if (args.dryRun) {
        const what = request.paths.length > 0 ? request.paths.join(' ') : snapshot.paths.join(' ');
        print(context, { dryRun: true, snapshot, target: request.target, paths: request.paths }, [
          `restore ${what} of ` + `${snapshotLine(snapshot)} into ` + `${request.target} (a new ` + `folder of root's)`,
        ]);
        return;
      }
      const done = await restoreFiles(context, restic, snapshot, request);
      print(context, done, [
        `restored ${done.files} files, ${formatBytes(done.bytes)}, of ` +
          `${snapshotLine(snapshot)} into ${done.target}`,
      ]);
      return;
    }
    const target = { pairs: request.to, ...(profile.values.PG_OS_USER ? { osUser: profile.values.PG_OS_USER } : {}) };
    if (!args.dryRun) await undoKilledRestore(context, profile);
    const snapshot = await chooseSnapshot(restic, 'pg-backup', choice);
    const options = { target, replace: args.replace, updateRoles: args.updateRoles, jobs: request.jobs };
    if (tagValue(snapshot, 'format') !== 'directory') {
      await restoreOldDump(context, restic, profile, snapshot, request, args);
      return;
    }
    const plan = await planArchiveRestore(context, restic, snapshot, request.selection, options);
    if (args.dryRun) {
      print(context, { dryRun: true, ...plan }, planLines(plan));
      return;
    }
    planLines(plan).forEach((line) => context.log.info(line));
    const summaries = await restoreArchive(context, restic, profile, plan, options);
    print(context, { snapshot: plan.snapshot, target: plan.target, databases: summaries }, summaryLines(summaries));
  });
}

async function restoreOldDump(
  context: Context,
  restic: Awaited<ReturnType<typeof openRestic>>,
  profile: Profile,
  snapshot: ResticSnapshot,
  request: Extract<Request, { kind: 'databases' }>,
  args: RestoreArguments,
): Promise<void> {
  const { selection } = request;
  if (selection.schema !== undefined || selection.table !== undefined) {
    throw new UsageError(
      `${snapshotLine(snapshot)} is one SQL file (PG_DUMP_FORMAT=sql): a schema or a table can only come back from a ` +
        'per-database archive. Restore the database --as NEWNAME and take the table from there',
    );
  }
  if (selection.databases !== 'all' && selection.databases.length > 1) {
    throw new UsageError(
      'a single-file SQL dump restores one database, or all: give one --database, or ' + '--all-databases',
    );
  }
  const database = selection.databases === 'all' ? undefined : selection.databases[0];
  const what = database ? `the database ${database}${selection.as ? ` as ${selection.as}` : ''}` : 'every database';
  if (args.dryRun) {
    print(context, { dryRun: true, snapshot, format: 'sql', database: database ?? null }, [
      `restore ${what} from ${snapshotLine(snapshot)}: one SQL file, ${snapshot.paths[0]}, read as one stream ` +
        `on one core`,
    ]);
    return;
  }
  const target = { pairs: request.to, ...(profile.values.PG_OS_USER ? { osUser: profile.values.PG_OS_USER } : {}) };
  const started = Date.now();
  const done = await restoreSqlDump(context, restic, profile, snapshot, {
    ...(database ? { database } : {}),
    ...(selection.as ? { as: selection.as } : {}),
    target,
    replace: args.replace,
    updateRoles: args.updateRoles,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  print(context, { snapshot, format: 'sql', ...done }, [
    `restored ${done.restored.join(', ')} from ${snapshotLine(snapshot)} in ${seconds} s`,
    ...done.renamedAside.map(
      (item) =>
        `  the live ${item.from} was renamed to ${item.to}; once you no longer ` +
        `need it: DROP DATABASE "${item.to.replaceAll('"', '""')}";`,
    ),
  ]);
}

function print(context: Context, json: object, lines: string[]): void {
  context.print(context.json ? JSON.stringify(json, null, 2) : lines.join('\n'));
}
