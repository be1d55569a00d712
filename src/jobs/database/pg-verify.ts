/**
 * `run pg-verify <name>`: the restore drill. Restores the latest database dump into a scratch
 * cluster (scratch-cluster.ts) with ON_ERROR_STOP, reports databases, tables and rows, and removes
 * the cluster. Any error fails the run.
 */
import path from 'node:path';
import type { Context } from '../../context.js';
import { ExitCode, JobError } from '../../errors.js';
import { querySql, serverMajor } from '../../tools/postgres.js';
import { jobTags, snapshotHost } from '../../tools/restic.js';
import { baseEnvironment, type PipelineStage } from '../../exec/runner.js';
import { toolBinary } from '../../exec/tools.js';
import { withRepositoryLock } from '../../locks/repository-lock.js';
import type { Profile } from '../../profile/model.js';
import type { JobOutcome } from '../job.js';
import { callRestic, openRestic, type Restic } from '../restic-call.js';
import { removeScratchCluster, startScratchCluster } from './scratch-cluster.js';

const DECOMPRESSORS: Record<string, { tool: 'gzip' | 'zstd'; args: string[] } | undefined> = {
  '.gz': { tool: 'gzip', args: ['-d', '-c'] },
  '.zst': { tool: 'zstd', args: ['-d', '-q', '-c'] },
};

// Exact row counts of every table of a database, in one query.
const COUNT_ROWS = `SELECT count(*), coalesce(sum((xpath('/row/c/text()', query_to_xml(
      format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text::bigint), 0)
  FROM information_schema.tables
  WHERE table_type = 'BASE TABLE'
    AND table_schema NOT IN ('pg_catalog', 'information_schema')`;

interface DumpSnapshot {
  id: string;
  short_id: string;
  paths: string[];
  tags?: string[];
}

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

export async function pgVerifyJob(context: Context, profile: Profile): Promise<JobOutcome> {
  const restic = await openRestic(context, profile);
  const host = snapshotHost(profile);
  const base = { host, resticVersion: restic.version.text };
  const latest = await withRepositoryLock(context, profile, 'pg-verify', async () => {
    const listed = await callRestic(restic, 'finding the latest dump', [
      'snapshots',
      '--json',
      '--latest',
      '1',
      '--host',
      host,
      '--tag',
      jobTags(profile.name, 'pg-backup').join(','),
    ]);
    return (JSON.parse(listed.stdout || '[]') as DumpSnapshot[]).at(-1);
  });
  if (!latest)
    throw new JobError(
      `there is no database dump of ${profile.name} from ${host} to verify: run restic-systemd run pg-backup ` +
        `${profile.name} first`,
      ExitCode.CommandFailed,
    );
  const file = latest.paths[0]!;
  const decompressor = DECOMPRESSORS[path.extname(file)];

  const scratch = await startScratchCluster(
    context,
    profile.values.PG_OS_USER ?? 'postgres',
    await bindirFor(restic, latest),
  );
  try {
    const resticStage: PipelineStage = {
      tool: 'restic',
      args: [...restic.globalArgs, 'dump', '--', latest.id, file],
      env: { ...baseEnvironment(), ...restic.env },
    };
    const psqlStage: PipelineStage = {
      tool: 'runuser',
      args: ['-u', scratch.user, '--', toolBinary('psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres'],
      env: scratch.env,
    };
    const stages = [resticStage, ...(decompressor ? [{ ...decompressor, env: baseEnvironment() }] : []), psqlStage];
    const results = await context.runner.pipeline(stages);
    const failed = results.find((result) => result.exitCode !== 0);
    if (failed) {
      throw new JobError(
        `restoring snapshot ${latest.short_id} failed at ${failed.command} (exit ` +
          `${failed.exitCode}):\n${failed.stderr.trim().split('\n').slice(-5).join('\n')}`,
        ExitCode.CommandFailed,
      );
    }
    const [[major = '?'] = []] = await querySql(
      context.runner,
      scratch.user,
      scratch.env,
      "SELECT current_setting('server_version_num')::int / 10000",
    );
    const databases = (
      await querySql(
        context.runner,
        scratch.user,
        scratch.env,
        'SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1',
      )
    ).map((row) => row[0]!);
    const report: string[] = [];
    let tables = 0;
    let rows = 0;
    for (const database of databases) {
      const [counts = ['0', '0']] = await querySql(
        context.runner,
        scratch.user,
        { ...scratch.env, PGDATABASE: database },
        COUNT_ROWS,
      );
      tables += Number(counts[0]);
      rows += Number(counts[1]);
      report.push(`${database}: ${counts[0]} tables, ${counts[1]} rows`);
    }
    context.log.info(report.join('\n'));
    return {
      ...base,
      result: 'success',
      exitCode: ExitCode.Ok,
      snapshotId: latest.id,
      message:
        `snapshot ${latest.short_id} (${file}) restores into PostgreSQL ${major}: ${databases.length} ` +
        `databases, ${tables} tables, ${rows} rows (${report.join('; ')})`,
    };
  } finally {
    await removeScratchCluster(context, scratch);
  }
}
