/** The results as Markdown tables (between markers in docs/benchmarks.md) and as JSON. */
import type { BackupJobResults } from './backup-job.js';
import { SPOOL_VARIANTS, type DatabaseResults, type SizeResult, type Variant } from './database.js';
import type { InstallResults } from './install-scale.js';
import { mib, round } from './measure.js';
import { restoreSection, restoreTargets } from './restore-report.js';
import type { RestoreResults } from './restore.js';

export interface Environment {
  date: string;
  machine: string;
  cores: number;
  memoryGib: number;
  kernel: string;
  versions: Record<string, string>;
  repetitions: number;
  smoke: boolean;
  /** Set when `--only backup-job` measured section 4 again later, into the results of the run above. */
  backupJobRerun?: string;
  /** Set when `--only restore` measured section 6 again later, into the results of the run above. */
  restoreRerun?: string;
}

export interface Results {
  environment: Environment;
  database: DatabaseResults;
  backupJob: BackupJobResults;
  install: InstallResults;
  /** Section 6; absent from the results of runs before it. */
  restore?: RestoreResults;
}

export const START_MARKER = '<!-- results:start (written by npm run bench) -->';
export const END_MARKER = '<!-- results:end -->';

const ratio = (value: number, reference: number) => (reference > 0 ? `${round(value / reference, 2)}×` : 'n/a');
const verdict = (met: boolean) => (met ? 'met' : '**missed**');

function pipelineTable(size: SizeResult): string {
  const guide = size.medians.guide;
  const rows = (['dump-only', 'guide', 'job-none', 'job-gzip', 'job-zstd', ...SPOOL_VARIANTS] as Variant[]).map(
    (variant) => {
      const result = size.medians[variant];
      const label = {
        'dump-only': '`pg_dumpall > /dev/null` (the limit)',
        guide: "the guide's pipeline (gzip --rsyncable)",
        'job-none': '`run pg-backup`, PG_DUMP_COMPRESSION=none (default)',
        'job-gzip': '`run pg-backup`, gzip',
        'job-zstd': '`run pg-backup`, zstd',
        'spool-plain': '`run pg-backup`, PG_DUMP_MODE=spool (uncompressed spool, the default), none',
        'spool-zstd': '`run pg-backup`, PG_DUMP_MODE=spool, PG_SPOOL_COMPRESSION=zstd, none',
      }[variant];
      return (
        `| ${label} | ${result.seconds.toFixed(2)} | ${result.mibPerSecond} | ` +
        `${variant === 'dump-only' ? '' : ratio(result.mibPerSecond, guide.mibPerSecond)} | ` +
        `${result.peakRssMib ?? ''} | ${result.repositoryMib ?? ''} |`
      );
    },
  );
  return [
    `${size.rows} rows, ${mib(size.sqlBytes)} MiB of SQL; medians of ${size.runs.guide.length} runs each, ` +
      `every run into a new repository.`,
    '',
    '| variant | seconds | SQL MiB/s | throughput vs guide | node peak RSS MiB | repository MiB |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

function growthTable(database: DatabaseResults): string {
  const { added, days } = database.growth;
  const rows = days.map((day, index) => {
    const guide = added.guide[index]!;
    const cell = (bytes: number) => `${mib(bytes)} (${ratio(bytes, guide)})`;
    return (
      `| ${day} | ${mib(guide)} | ${cell(added['job-none'][index]!)} | ${cell(added['job-gzip'][index]!)} | ` +
      `${cell(added['job-zstd'][index]!)} |`
    );
  });
  const total = (list: number[]) => list.reduce((sum, value) => sum + value, 0);
  const guideTotal = total(added.guide);
  rows.push(
    `| total | ${mib(guideTotal)} | ${mib(total(added['job-none']))} ` +
      `(${ratio(total(added['job-none']), guideTotal)}) | ${mib(total(added['job-gzip']))} ` +
      `(${ratio(total(added['job-gzip']), guideTotal)}) | ${mib(total(added['job-zstd']))} ` +
      `(${ratio(total(added['job-zstd']), guideTotal)}) |`,
  );
  return [
    `Repository MiB added by each day's dump (${database.small.rows} rows at the start), and the ratio to the ` +
      `guide's pipeline:`,
    '',
    "| day | guide's pipeline | job, none | job, gzip | job, zstd |",
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

const PAUSING: readonly Variant[] = ['job-none', 'job-gzip', 'job-zstd', ...SPOOL_VARIANTS];
const MODE_LABEL: Partial<Record<Variant, string>> = {
  'job-none': 'stream, none',
  'job-gzip': 'stream, gzip',
  'job-zstd': 'stream, zstd',
  'spool-zstd': 'spool (zstd), none',
  'spool-plain': 'spool (uncompressed), none',
};

function pauseTable(database: DatabaseResults): string {
  const rows = (['large', 'small'] as const).flatMap((which) => {
    const size = database[which];
    const bare = size.medians['dump-only'].seconds;
    return PAUSING.map((variant) => {
      const result = size.medians[variant];
      const spool = result.spoolBytes !== undefined ? mib(result.spoolBytes) : '';
      return (
        `| ${mib(size.sqlBytes)} MiB | ${MODE_LABEL[variant]} | ${result.pausedSeconds ?? ''} | ` +
        `${bare.toFixed(2)} | ${result.pausedSeconds !== undefined ? ratio(result.pausedSeconds, bare) : ''} | ` +
        `${result.seconds.toFixed(2)} | ${spool} | ${spool} |`
      );
    });
  });
  const guide = (['large', 'small'] as const).map(
    (which) =>
      `${mib(database[which].sqlBytes)} MiB: ${database[which].medians.guide.seconds.toFixed(2)} s, replay ` +
      `paused the whole time (the guide pauses nothing; its \`systemctl stop repmgrd\` leaves replay running)`,
  );
  return [
    'Medians; "bare pg_dumpall" is `pg_dumpall > /dev/null` on the same standby; the spool is the only disk ' +
      'the job uses beyond the repository, so its size is the peak disk use.',
    '',
    '| dump | mode | replay paused, s | bare pg_dumpall, s | ratio | whole job, s | spool MiB | peak disk MiB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `The guide's pipeline: ${guide.join('; ')}.`,
  ].join('\n');
}

/** The targets of the benchmark issue and whether this run met them. */
export function targets(results: Results): Array<{ target: string; measured: string; met: boolean }> {
  const { large, small } = results.database;
  const guide = large.medians.guide.mibPerSecond;
  const peak = Math.max(
    ...[small, large].flatMap((size) =>
      PAUSING.flatMap((variant) => size.runs[variant].map((run) => run.peakRssMib ?? 0)),
    ),
  );
  const beyond = Math.max(
    ...(['job-none', 'job-gzip', 'job-zstd'] as Variant[]).map(
      (variant) => (large.medians[variant].pausedSeconds ?? 0) - (large.medians[variant].dumpSeconds ?? 0),
    ),
  );
  const spoolPause = (variant: Variant) =>
    Math.max(
      ...[small, large].map(
        (size) => (size.medians[variant].pausedSeconds ?? Infinity) / size.medians['dump-only'].seconds,
      ),
    );
  const spoolSlower = (variant: Variant) =>
    Math.max(...[small, large].map((size) => size.medians[variant].seconds / size.medians['job-none'].seconds));
  const spoolTargets = SPOOL_VARIANTS.flatMap((variant) => {
    const which =
      variant === 'spool-plain'
        ? 'spool mode (uncompressed spool, the default)'
        : 'spool mode, PG_SPOOL_COMPRESSION=zstd';
    const [pause, slower] = [spoolPause(variant), spoolSlower(variant)];
    return [
      {
        target: `${which}: replay paused ≤ 1.3× bare pg_dumpall, at both sizes`,
        measured: `${round(pause, 2)}× at most`,
        met: pause <= 1.3,
      },
      {
        target: `${which}: the whole job ≤ 1.1× streaming (same compression), at both sizes`,
        measured: `${round(slower, 2)}× at most`,
        met: slower <= 1.1,
      },
    ];
  });
  const { backupJob, install } = results;
  return [
    {
      target: "throughput in gzip mode ≥ the guide's pipeline",
      measured:
        `${large.medians['job-gzip'].mibPerSecond} vs ${guide} MiB/s ` +
        `(${ratio(large.medians['job-gzip'].mibPerSecond, guide)})`,
      met: large.medians['job-gzip'].mibPerSecond >= guide,
    },
    {
      target: "throughput in the default mode clearly above the guide's (≥ 1.2×)",
      measured:
        `${large.medians['job-none'].mibPerSecond} vs ${guide} MiB/s ` +
        `(${ratio(large.medians['job-none'].mibPerSecond, guide)})`,
      met: large.medians['job-none'].mibPerSecond >= 1.2 * guide,
    },
    {
      target: 'node peak RSS < 100 MB at every dump size',
      measured: `${peak} MiB at most (${mib(small.sqlBytes)} and ${mib(large.sqlBytes)} MiB dumps)`,
      met: peak * 1.048576 < 100,
    },
    { target: 'replay paused < 1 s beyond the dump', measured: `${round(beyond, 2)} s at most`, met: beyond < 1 },
    ...spoolTargets,
    {
      target: "the backup job's own cost beyond its restic calls ≤ 0.15 s (bundled CLI)",
      measured: `${round(backupJob.jobSeconds - backupJob.bareResticWithRetentionSeconds, 3)} s`,
      met: backupJob.jobSeconds - backupJob.bareResticWithRetentionSeconds <= 0.15,
    },
    {
      target: 'backup job overhead < 0.3 s',
      measured: `${backupJob.overheadSeconds} s (${backupJob.jobSeconds} vs ${backupJob.bareResticSeconds} s)`,
      met: backupJob.overheadSeconds < 0.3,
    },
    {
      target: `install of ${install.profiles} profiles < 5 s`,
      measured: `${install.installSeconds} s`,
      met: install.installSeconds < 5,
    },
    {
      target: `no-op re-install of ${install.profiles} profiles < 1 s`,
      measured: `${install.reinstallSeconds} s`,
      met: install.reinstallSeconds < 1,
    },
    ...(results.restore ? restoreTargets(results.restore) : []),
  ];
}

export function markdown(results: Results): string {
  const { environment: env, database, backupJob, install } = results;
  return [
    START_MARKER,
    `Run of ${env.date}${env.smoke ? ' (smoke sizes: not a measurement)' : ''}: ${env.machine}, ${env.cores} ` +
      `cores, ${env.memoryGib} GiB, Linux ${env.kernel}; ` +
      `${Object.entries(env.versions)
        .map(([name, version]) => `${name} ${version}`)
        .join(', ')}. Alternating runs (A B A B), ${env.repetitions} of each.` +
      (env.backupJobRerun
        ? ` Section 4 (the backup job) measured again on ${env.backupJobRerun} (\`npm run bench -- --only ` +
          `backup-job\`).`
        : '') +
      (env.restoreRerun
        ? ` Section 6 (the restore) measured again on ${env.restoreRerun} (\`npm run bench -- --only restore\`).`
        : ''),
    '',
    '### Targets',
    '',
    '| target | measured | |',
    '| --- | --- | --- |',
    ...targets(results).map(
      (row) => `| ${row.target} | ${row.measured} | ${env.smoke ? 'smoke: no verdict' : verdict(row.met)} |`,
    ),
    '',
    '### 1. Database pipeline (PG_DUMP_FORMAT=sql), large dump',
    '',
    pipelineTable(database.large),
    '',
    '### 1. Database pipeline (PG_DUMP_FORMAT=sql), small dump',
    '',
    pipelineTable(database.small),
    '',
    '### 2. Repository growth over three daily dumps',
    '',
    growthTable(database),
    '',
    '### 3. Replay-pause window, streaming and spooling',
    '',
    pauseTable(database),
    '',
    '### 4. The backup job against bare restic',
    '',
    `An unchanged tree of ${backupJob.files} files (${backupJob.treeMib} MiB), local repository, whole ` +
      `processes, the CLI bundled as the Debian package ships it: ` +
      (`\`run backup\` ${backupJob.jobSeconds} s, \`restic backup\` ${backupJob.bareResticSeconds} s, overhead ` +
        `${backupJob.overheadSeconds} s. `) +
      (`The same two restic calls the job makes (\`restic backup\` then its retention, \`restic forget ` +
        `--keep-within 7d\`), by hand: ${backupJob.bareResticWithRetentionSeconds} s, `) +
      (`so the job's own cost beyond restic's work is ` +
        `${round(backupJob.jobSeconds - backupJob.bareResticWithRetentionSeconds, 3)} s. `) +
      (`Start-up: \`restic-systemd --version\` ${backupJob.cliStartupSeconds} s, \`node -e ''\` ` +
        `${backupJob.nodeStartupSeconds} s, \`restic version\` ${backupJob.resticVersionSeconds} s.`),
    '',
    '### 5. Installing many profiles',
    '',
    `\`install\` of ${install.profiles} profiles into an image root (\`--root\`, real \`systemctl --root\` ` +
      `enable; ${install.unitFiles} files and links written): ${install.installSeconds} s; the same again, a ` +
      `no-op: ${install.reinstallSeconds} s.`,
    ...(results.restore
      ? ['', '### 6. Per-database archives (PG_DUMP_FORMAT=directory) and restore', '', restoreSection(results.restore)]
      : []),
    END_MARKER,
  ].join('\n');
}

/** Replace the results between the markers of an existing report, keeping the written analysis around them. */
export function spliceReport(existing: string, results: string): string {
  const start = existing.indexOf(START_MARKER);
  const end = existing.indexOf(END_MARKER);
  if (start < 0 || end < start) return `${existing.trimEnd()}\n\n${results}\n`;
  return existing.slice(0, start) + results + existing.slice(end + END_MARKER.length);
}
