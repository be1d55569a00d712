/**
 * `npm run bench`: the cost of restic-systemd's jobs against the guide's shell pipeline and against
 * the targets, written to docs/benchmarks.md (between its markers) and docs/benchmarks.json.
 * `npm run bench -- --smoke` runs every part on small sizes into a temporary folder: it proves the
 * benchmark works and measures nothing. `--only backup-job` or `--only restore` measures one part again,
 * into the results already in the output folder (docs/, or `--out DIR`).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT } from '../test/helpers/cli.js';
import { prepareTools } from '../test/helpers/global-setup.js';
import { benchBackupJob } from './backup-job.js';
import { benchDatabase } from './database.js';
import { benchInstall } from './install-scale.js';
import { markdown, spliceReport, targets, type Environment, type Results } from './report.js';
import { benchRestore } from './restore.js';

const SIZES = {
  // About 85 bytes of SQL a row: 3 M rows ≈ 245 MiB, 12.5 M rows ≈ 1 GiB (1.07 GB).
  // The restore's data set (bench/shop-data.ts) is 1.19 GB of SQL at scale 1: 0.85 ≈ 1 GB, 0.004 ≈ 5 MB.
  full: {
    rows: { small: 3_000_000, large: 12_500_000 },
    restoreScale: 0.85,
    repetitions: 2,
    files: 5000,
    profiles: 200,
  },
  smoke: { rows: { small: 20_000, large: 60_000 }, restoreScale: 0.004, repetitions: 1, files: 200, profiles: 20 },
};

function version(argv: string[], pattern: RegExp): string {
  try {
    const output = execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return pattern.exec(output)?.[1] ?? output.trim().split('\n')[0]!;
  } catch {
    return 'unknown';
  }
}

function environment(smoke: boolean, repetitions: number): Environment {
  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    machine: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    memoryGib: Math.round(os.totalmem() / 1024 ** 3),
    kernel: os.release(),
    versions: {
      node: process.version,
      restic: version(['restic', 'version'], /restic ([\d.]+)/),
      PostgreSQL: version(['/usr/lib/postgresql/15/bin/postgres', '--version'], /([\d.]+)/),
      gzip: version(['gzip', '--version'], /gzip ([\d.]+)/),
      zstd: version(['zstd', '--version'], /v([\d.]+)/),
    },
    repetitions,
    smoke,
  };
}

/** Write the report (between its markers) and the targets' verdicts from a run's results. */
function writeReport(outDir: string, results: Results, log: (line: string) => void): void {
  const report = path.join(outDir, 'benchmarks.md');
  const existing = fs.existsSync(report) ? fs.readFileSync(report, 'utf8') : '# Benchmarks\n';
  fs.writeFileSync(report, spliceReport(existing, markdown(results)));
  // Smoke sizes say nothing about the targets: their numbers are shown without a verdict.
  for (const row of targets(results))
    log(`${results.environment.smoke ? 'smoke ' : row.met ? 'met   ' : 'MISSED'} ${row.target}: ${row.measured}`);
  log(`written: ${report} and ${path.join(outDir, 'benchmarks.json')}`);
}

/**
 * `--only backup-job` (section 4, after a change to the CLI's start-up) or `--only restore` (section 6): that part
 * again, into the results of the last run in the output folder.
 */
async function measureOnly(part: string | undefined, outDir: string, smoke: boolean, log: (line: string) => void) {
  const size = smoke ? SIZES.smoke : SIZES.full;
  const file = path.join(outDir, 'benchmarks.json');
  if (part !== 'backup-job' && part !== 'restore')
    throw new Error(`--only ${part}: only backup-job or restore can be measured alone`);
  if (!fs.existsSync(file))
    throw new Error(`--only ${part} measures into the results of an earlier run: ${file} does not exist (--out DIR)`);
  const results = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
  const date = environment(smoke, size.repetitions).date;
  if (part === 'backup-job') {
    log('4. the backup job against bare restic');
    results.backupJob = await benchBackupJob(size.files, Math.max(size.repetitions * 2, 3), log);
    results.environment.backupJobRerun = date;
  } else {
    log('6. per-database archives and restore');
    results.restore = await benchRestore(size.restoreScale, size.repetitions, log);
    results.environment.restoreRerun = date;
  }
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  writeReport(outDir, results, log);
}

async function main(): Promise<void> {
  const smoke = process.argv.includes('--smoke');
  const outIndex = process.argv.indexOf('--out');
  const outDir =
    outIndex > 0
      ? path.resolve(process.argv[outIndex + 1]!)
      : smoke
        ? fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-bench-'))
        : path.join(PROJECT, 'docs');
  const log = (line: string) => process.stdout.write(`${line}\n`);
  // --report-only: the report again from the results already measured (after its wording changed); measures nothing.
  if (process.argv.includes('--report-only')) {
    writeReport(outDir, JSON.parse(fs.readFileSync(path.join(outDir, 'benchmarks.json'), 'utf8')) as Results, log);
    return;
  }
  const size = smoke ? SIZES.smoke : SIZES.full;
  // The same programs as the test suite (restic, PostgreSQL 15, repmgr, zstd…), installed the same way.
  prepareTools();
  if (process.argv.includes('--only')) {
    await measureOnly(process.argv[process.argv.indexOf('--only') + 1], outDir, smoke, log);
    return;
  }

  log("1-3. database: the job against the guide's pipeline");
  const database = await benchDatabase(size.rows, size.repetitions, log);
  log('4. the backup job against bare restic');
  const backupJob = await benchBackupJob(size.files, Math.max(size.repetitions * 2, 3), log);
  log(`5. install of ${size.profiles} profiles`);
  const install = await benchInstall(size.profiles, Math.max(size.repetitions, 2), log);
  log('6. per-database archives and restore');
  const restore = await benchRestore(size.restoreScale, size.repetitions, log);

  const results: Results = {
    environment: environment(smoke, size.repetitions),
    database,
    backupJob,
    install,
    restore,
  };
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'benchmarks.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeReport(outDir, results, log);
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
