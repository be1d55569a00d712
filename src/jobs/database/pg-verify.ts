/**
 * `run pg-verify <name>`: the restore drill. Restores every database of the latest dump into a
 * scratch cluster (scratch-cluster.ts): a per-database archive through the same code as
 * `restore --all-databases` (in parallel, roles from its globals), a single-file SQL dump through
 * psql with ON_ERROR_STOP. Reports databases, tables and exact rows, and the time the restore took
 * as the measured recovery time; removes the cluster. Any error fails the run.
 */
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../../context.js';
import { ExitCode, JobError } from '../../errors.js';
import { baseEnvironment, type PipelineStage } from '../../exec/runner.js';
import { toolBinary } from '../../exec/tools.js';
import { withRepositoryLock } from '../../locks/repository-lock.js';
import type { Profile } from '../../profile/model.js';
import { countRowsSql, querySql, serverMajor } from '../../tools/postgres.js';
import { jobTags, snapshotHost } from '../../tools/restic.js';
import type { JobOutcome } from '../job.js';
import { planArchiveRestore, restoreArchive } from '../restore/archive-restore.js';
import { tagValue, type ResticSnapshot } from '../restore/snapshots.js';
import { callRestic, openRestic, resticStage, type Restic } from '../restic-call.js';
import {
  removeScratchCluster,
  startScratchCluster,
  SCRATCH_PORT,
  VERIFIER,
  type ScratchCluster,
} from './scratch-cluster.js';

const DECOMPRESSORS: Record<string, { tool: 'gzip' | 'zstd'; args: string[] } | undefined> = {
  '.gz': { tool: 'gzip', args: ['-d', '-c'] },
  '.zst': { tool: 'zstd', args: ['-d', '-q', '-c'] },
};

type DumpSnapshot = ResticSnapshot;

/**
 * PG_BINDIR, or Debian's folder of the dumped server's major version: recorded with the dump
 * (tag pg-major:N), else asked from the profile's server.
 */
async function bindirFor(restic: Restic, snapshot: DumpSnapshot): Promise<string> {
  const { context, profile } = restic;
  if (profile.values.PG_BINDIR) return profile.values.PG_BINDIR;
  const tagged = snapshot.tags?.find((tag) => tag.startsWith('pg-major:'))?.slice('pg-major:'.length);
  const major = tagged
    ? Number(tagged)
    : await serverMajor(context.runner, profile).catch((error: Error) => {
        throw new JobError(
          `cannot tell which PostgreSQL the dump is of: it has no pg-major tag and the server does not answer ` +
            `(${error.message}). Set PG_BINDIR in ${profile.file}`,
          ExitCode.CommandFailed,
        );
      });
  return `/usr/lib/postgresql/${major}/bin`;
}

interface Restored {
  databases: Array<{ name: string; tables: number; rows: number }>;
}

/** A per-database archive: every database, by the restore command's own code, in parallel. */
async function restoreArchiveInto(restic: Restic, snapshot: DumpSnapshot, scratch: ScratchCluster): Promise<Restored> {
  const { context, profile } = restic;
  const target = {
    pairs: [
      ['host', scratch.folder],
      ['port', SCRATCH_PORT],
      ['user', VERIFIER],
    ] as Array<[string, string]>,
    osUser: scratch.user,
  };
  // The scratch cluster is the drill's own: its empty postgres database is renamed aside like any other.
  const options = {
    target,
    replace: true,
    updateRoles: false,
    jobs: os.availableParallelism(),
    exactRows: true,
    marker: 'pg-verify',
  };
  const plan = await planArchiveRestore(context, restic, snapshot, { databases: 'all' }, options);
  const summaries = await restoreArchive(context, restic, profile, plan, options);
  return { databases: summaries.map((summary) => ({ name: summary.as, tables: summary.tables, rows: summary.rows })) };
}

/** A single-file SQL dump: restic dump | [decompress |] psql, process to process. */
async function restoreSqlInto(restic: Restic, snapshot: DumpSnapshot, scratch: ScratchCluster): Promise<Restored> {
  const { context } = restic;
  const file = snapshot.paths[0]!;
  const decompressor = DECOMPRESSORS[path.extname(file)];
  const dumpStage = resticStage(restic, ['dump', '--', snapshot.id, file]);
  const psqlStage: PipelineStage = {
    tool: 'runuser',
    args: ['-u', scratch.user, '--', toolBinary('psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres'],
    env: scratch.env,
  };
  const stages = [dumpStage, ...(decompressor ? [{ ...decompressor, env: baseEnvironment() }] : []), psqlStage];
  const results = await context.runner.pipeline(stages);
  const failed = results.find((result) => result.exitCode !== 0);
  if (failed) {
    const said = failed.stderr.trim().split('\n').slice(-5).join('\n');
    throw new JobError(
      `restoring snapshot ${snapshot.short_id} failed at ${failed.command} (exit ${failed.exitCode}):\n${said}`,
      ExitCode.CommandFailed,
    );
  }
  const names = await querySql(
    context.runner,
    scratch.user,
    scratch.env,
    'SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1',
  );
  const databases: Restored['databases'] = [];
  for (const [name = ''] of names) {
    const [counts = ['0', '0']] = await querySql(
      context.runner,
      scratch.user,
      { ...scratch.env, PGDATABASE: name },
      countRowsSql(),
    );
    databases.push({ name, tables: Number(counts[0]), rows: Number(counts[1]) });
  }
  return { databases };
}

export async function pgVerifyJob(context: Context, profile: Profile): Promise<JobOutcome> {
  const restic = await openRestic(context, profile);
  // The whole drill under the repository lock: its restic reads would otherwise meet another job's forget or
  // prune of the same repository (restic's own lock, exit 11, for whichever comes second).
  return withRepositoryLock(context, profile, 'pg-verify', () => drill(context, profile, restic));
}

async function drill(context: Context, profile: Profile, restic: Restic): Promise<JobOutcome> {
  const host = snapshotHost(profile);
  const base = { host, resticVersion: restic.version.text };
  const tags = jobTags(profile.name, 'pg-backup').join(',');
  const listed = await callRestic(restic, 'finding the latest dump', [
    'snapshots',
    '--json',
    '--latest',
    '1',
    '--host',
    host,
    '--tag',
    tags,
  ]);
  const latest = (JSON.parse(listed.stdout || '[]') as DumpSnapshot[]).at(-1);
  if (!latest) {
    throw new JobError(
      `there is no database dump of ${profile.name} from ${host} to verify: run restic-systemd run pg-backup ` +
        `${profile.name} first`,
      ExitCode.CommandFailed,
    );
  }
  const scratch = await startScratchCluster(
    context,
    profile.values.PG_OS_USER ?? 'postgres',
    await bindirFor(restic, latest),
  );
  try {
    const started = Date.now();
    const archive = tagValue(latest, 'format') === 'directory';
    const restored = archive
      ? await restoreArchiveInto(restic, latest, scratch)
      : await restoreSqlInto(restic, latest, scratch);
    const recoverySeconds = (Date.now() - started) / 1000;
    const [[major = '?'] = []] = await querySql(
      context.runner,
      scratch.user,
      scratch.env,
      "SELECT current_setting('server_version_num')::int / 10000",
    );
    const report = restored.databases.map(
      (database) => `${database.name}: ${database.tables} tables, ${database.rows} rows`,
    );
    const tables = restored.databases.reduce((sum, database) => sum + database.tables, 0);
    const rows = restored.databases.reduce((sum, database) => sum + database.rows, 0);
    context.log.info(report.join('\n'));
    const what = archive ? `the per-database archives of ${latest.paths[0]}` : latest.paths[0];
    return {
      ...base,
      result: 'success',
      exitCode: ExitCode.Ok,
      snapshotId: latest.id,
      recoverySeconds,
      message:
        `snapshot ${latest.short_id} (${what}) restores into PostgreSQL ${major} in ${recoverySeconds.toFixed(1)} s: ` +
        `${restored.databases.length} databases, ${tables} tables, ${rows} rows (${report.join('; ')})`,
    };
  } finally {
    await removeScratchCluster(context, scratch);
  }
}
