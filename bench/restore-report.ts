/** The restore part's targets (the "restore" issue) and its section of the report, from bench/restore.ts's results. */
import { mib, round } from './measure.js';
import type { RestoreResults, Timed } from './restore.js';

export interface TargetRow {
  target: string;
  measured: string;
  met: boolean;
}

const times = (value: number, reference: number) => (reference > 0 ? `${round(value / reference, 2)}×` : 'n/a');
const percent = (share: number) => `${round(share * 100, 1)} %`;
const seconds = (value: Timed) => value.median.toFixed(2);
const runsOf = (value: Timed) => value.runs.map((run) => run.toFixed(2)).join(', ');
/** 100 MB, in the MiB the peaks are measured in. */
const HUNDRED_MB_IN_MIB = 100 / 1.048576;

export function restoreTargets(restore: RestoreResults): TargetRow[] {
  const { pause, oneDatabase: one, fewPercent, growth } = restore;
  const bare = pause.pgDumpall.median;
  const peak = Math.max(one.jobPeakRssMib, fewPercent.peakRssMib, pause.directory.peakRssMib);
  return [
    {
      target: 'directory format: replay paused ≤ 0.85× bare pg_dumpall',
      measured:
        `${pause.directory.paused.median} vs ${bare} s (${times(pause.directory.paused.median, bare)}); the SQL ` +
        `stream ${pause.sqlStream.paused.median} s (${times(pause.sqlStream.paused.median, bare)})`,
      met: pause.directory.paused.median <= 0.85 * bare,
    },
    {
      target: 'restore of one database (--jobs 2) ≤ 0.7× the manual procedure (`restic dump`, awk, psql)',
      measured: `${one.job.median} vs ${one.manual.median} s (${times(one.job.median, one.manual.median)})`,
      met: one.job.median <= 0.7 * one.manual.median,
    },
    {
      target: 'restore of one database (--jobs 2) ≤ 1.2× bare `pg_restore -j 2` from local disk',
      measured: `${one.job.median} vs ${one.bare.median} s (${times(one.job.median, one.bare.median)})`,
      met: one.job.median <= 1.2 * one.bare.median,
    },
    {
      target:
        `restore of a database of ${percent(fewPercent.shareOfCluster)} of the cluster ≤ 15 % of the time of ` +
        'every database',
      measured:
        `${fewPercent.one.median} vs ${fewPercent.all.median} s ` +
        `(${percent(fewPercent.one.median / fewPercent.all.median)})`,
      met: fewPercent.one.median <= 0.15 * fewPercent.all.median,
    },
    {
      target: 'repository growth per daily dump, directory format ≤ 1.1× the SQL stream',
      measured:
        `${mib(growth.added.directory)} vs ${mib(growth.added.sql)} MiB ` +
        `(${times(growth.added.directory, growth.added.sql)})`,
      met: growth.added.directory <= 1.1 * growth.added.sql,
    },
    {
      target: 'node peak RSS < 100 MB in the restore and the directory dump',
      measured:
        `${peak} MiB at most (restore ${Math.max(one.jobPeakRssMib, fewPercent.peakRssMib)}, dump ` +
        `${pause.directory.peakRssMib})`,
      met: peak < HUNDRED_MB_IN_MIB,
    },
  ];
}

function dataSetLine(restore: RestoreResults): string {
  const { dataSet } = restore;
  const databases = dataSet.databases.map(
    (database) =>
      `\`${database.name}\` (${database.tables} table${database.tables > 1 ? 's' : ''}: ${database.shape}; ` +
      `${mib(database.bytes)} MiB on disk)`,
  );
  return (
    `Data set (bench/shop-data.ts): ${databases.join(', ')}, \`postgres\`; ${mib(dataSet.sqlBytes)} MiB of ` +
    `\`pg_dumpall\` SQL, ${mib(dataSet.clusterBytes)} MiB on disk (repmgr's database left out everywhere). ` +
    "Every restore goes into a cluster the benchmark initdb'd with the default settings and is checked against " +
    'the source (rows, indexes, foreign keys), then dropped (`DROP DATABASE`, `CHECKPOINT`, `sync`); ' +
    `medians of ${restore.pause.pgDumpall.runs.length} runs each.`
  );
}

function pauseTable(restore: RestoreResults): string {
  const { pgDumpall, directory, sqlStream } = restore.pause;
  const bare = pgDumpall.median;
  const row = (label: string, paused: Timed, job?: Timed, rss?: number) =>
    `| ${label} | ${seconds(paused)} | ${runsOf(paused)} | ${times(paused.median, bare)} | ` +
    `${job ? seconds(job) : ''} | ${rss ?? ''} |`;
  return [
    '| variant | replay paused, s | runs, s | vs bare pg_dumpall | whole job, s | node peak RSS MiB |',
    '| --- | --- | --- | --- | --- | --- |',
    row('`pg_dumpall > /dev/null`, replay paused by hand', pgDumpall),
    row(
      '`run pg-backup`, PG_DUMP_FORMAT=directory (the default)',
      directory.paused,
      directory.job,
      directory.peakRssMib,
    ),
    row(
      '`run pg-backup`, PG_DUMP_FORMAT=sql, PG_DUMP_MODE=stream',
      sqlStream.paused,
      sqlStream.job,
      sqlStream.peakRssMib,
    ),
  ].join('\n');
}

function oneDatabaseTable(restore: RestoreResults): string {
  const one = restore.oneDatabase;
  const row = (label: string, value: Timed, rss?: number) =>
    `| ${label} | ${seconds(value)} | ${runsOf(value)} | ${times(value.median, one.manual.median)} | ` +
    `${times(value.median, one.bare.median)} | ${rss ?? ''} |`;
  return [
    `\`${one.database}\`, ${mib(one.archiveBytes)} MiB of archive, ` +
      `${restore.dataSet.databases.find((database) => database.name === one.database)?.shape}:`,
    '',
    '| variant | seconds | runs, s | vs the manual procedure | vs bare pg_restore | node peak RSS MiB |',
    '| --- | --- | --- | --- | --- | --- |',
    row(`\`restore --database ${one.database} --as ${one.database}_restored --jobs 2\``, one.job, one.jobPeakRssMib),
    // A pipe in a table cell ends the cell, even in code: escaped.
    row('the manual procedure: `restic dump <SQL snapshot> \\| awk <one database> \\| psql`', one.manual),
    row('`pg_restore --create -j 2`, the archive already on local disk', one.bare),
    ...(one.jobSteps
      ? [
          '',
          `The command's own account of its ${seconds(one.job)} s (medians): the archive taken out of restic ` +
            `${one.jobSteps.takenOut} s, the database restored (pg_restore, ANALYZE, the row count) ` +
            `${one.jobSteps.database} s; the rest is start-up, the snapshot's manifest and globals read with ` +
            'restic, and the checks of the target.',
        ]
      : []),
  ].join('\n');
}

function fewPercentTable(restore: RestoreResults): string {
  const few = restore.fewPercent;
  return [
    '| restore | seconds | runs, s | share of the time |',
    '| --- | --- | --- | --- |',
    `| \`--database ${few.database}\` (${percent(few.shareOfCluster)} of the cluster on disk, ` +
      `${percent(few.shareOfArchive)} of the archives) | ${seconds(few.one)} | ${runsOf(few.one)} | ` +
      `${percent(few.one.median / few.all.median)} |`,
    `| \`--all-databases --replace\` | ${seconds(few.all)} | ${runsOf(few.all)} | 100 % |`,
  ].join('\n');
}

function growthTable(restore: RestoreResults): string {
  const { change, first, added } = restore.growth;
  return [
    `The next day's change: ${change}; then one more dump into the repository holding the first.`,
    '',
    '| format | repository after the first dump, MiB | added by the next dump, MiB | vs the SQL stream |',
    '| --- | --- | --- | --- |',
    `| directory (per-database archives) | ${mib(first.directory)} | ${mib(added.directory)} | ` +
      `${times(added.directory, added.sql)} |`,
    `| SQL stream (one pg_dumpall file) | ${mib(first.sql)} | ${mib(added.sql)} | 1× |`,
  ].join('\n');
}

function sessionTable(restore: RestoreResults): string {
  const { common, current, byMaintenanceWorkMem, fastest } = restore.session;
  const reference = byMaintenanceWorkMem[current]?.median ?? 0;
  const rows = Object.entries(byMaintenanceWorkMem).map(
    ([memory, value]) =>
      `| ${memory}${memory === current ? " (the restore's)" : ''} | ${seconds(value)} | ${runsOf(value)} | ` +
      `${times(value.median, reference)} |`,
  );
  return [
    `Bare \`pg_restore --create -j 2\` of the archive on local disk, \`PGOPTIONS\` with ${common} and:`,
    '',
    "| maintenance_work_mem | seconds | runs, s | vs the restore's |",
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    `Fastest here: maintenance_work_mem=${fastest}.`,
  ].join('\n');
}

/** The section of the report: the data set, then 2a-2e and the session settings. */
export function restoreSection(restore: RestoreResults): string {
  return [
    dataSetLine(restore),
    '',
    '#### Replay-pause window',
    '',
    pauseTable(restore),
    '',
    '#### Restore of one database',
    '',
    oneDatabaseTable(restore),
    '',
    '#### One database of a few percent against all of them',
    '',
    fewPercentTable(restore),
    '',
    '#### Repository growth per daily dump',
    '',
    growthTable(restore),
    '',
    "#### pg_restore's session settings",
    '',
    sessionTable(restore),
  ].join('\n');
}
