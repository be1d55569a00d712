/**
 * `run pg-verify <name>`: the restore drill. Restores the latest database dump into a scratch
 * cluster (bootstrap superuser restore_verifier, so the dump's own DROP/CREATE ROLE postgres
 * lines apply cleanly; a private socket folder; no TCP), with ON_ERROR_STOP, reports databases,
 * tables and rows, and removes the cluster. Any error fails the run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../../context.js';
import { ExitCode, JobError } from '../../errors.js';
import { querySql } from '../../exec/postgres.js';
import { jobTags, resticEnvironment, resticVersion, snapshotHost } from '../../exec/restic.js';
import { baseEnvironment } from '../../exec/runner.js';
import { toolBinary } from '../../exec/tools.js';
import type { Profile } from '../../profile/load.js';
import type { JobOutcome } from '../job.js';
import { withRepositoryLock } from '../../locks/repository-lock.js';
import { callRestic } from '../restic-call.js';

const VERIFIER = 'restore_verifier';
const PORT = '5432';

const DECOMPRESSORS: Record<string, { tool: 'gzip' | 'zstd'; args: string[] } | undefined> = {
  '.gz': { tool: 'gzip', args: ['-d', '-c'] },
  '.zst': { tool: 'zstd', args: ['-d', '-q', '-c'] },
};

// Exact row counts of every table of a database, in one query.
const COUNT_ROWS = `SELECT count(*), coalesce(sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text::bigint), 0)
  FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`;

interface Scratch {
  folder: string;
  env: Record<string, string>;
  user: string;
}

async function startScratchCluster(context: Context, profile: Profile): Promise<Scratch> {
  const user = profile.values.PG_OS_USER ?? 'postgres';
  const bindir = profile.values.PG_BINDIR;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-verify-'));
  const owner = await context.runner.run('runuser', ['-u', user, '--', 'id', '-u']);
  const uid = Number(owner.stdout.trim());
  fs.chownSync(folder, uid, -1);
  const asUser = (program: string, args: string[]) => context.runner.run('runuser', ['-u', user, '--', path.join(bindir, program), ...args], { env: baseEnvironment(), isolatedEnv: true });
  const data = path.join(folder, 'data');
  const init = await asUser('initdb', ['-D', data, '-U', VERIFIER, '-A', 'trust', '--no-instructions']);
  if (init.exitCode !== 0) throw new JobError(`initdb of the scratch cluster failed: ${init.stderr.trim()}`, ExitCode.CommandFailed);
  fs.appendFileSync(path.join(data, 'postgresql.conf'), `listen_addresses = ''\nport = ${PORT}\nunix_socket_directories = '${folder}'\nfsync = off\n`);
  const start = await asUser('pg_ctl', ['-D', data, '-l', path.join(folder, 'server.log'), '-w', 'start']);
  if (start.exitCode !== 0) throw new JobError(`the scratch cluster did not start: ${start.stderr.trim()}`, ExitCode.CommandFailed);
  return { folder, user, env: { ...baseEnvironment(), PGHOST: folder, PGPORT: PORT, PGUSER: VERIFIER, PGDATABASE: 'postgres' } };
}

async function removeScratchCluster(context: Context, profile: Profile, scratch: Scratch): Promise<void> {
  await context.runner.run('runuser', ['-u', scratch.user, '--', path.join(profile.values.PG_BINDIR, 'pg_ctl'), '-D', path.join(scratch.folder, 'data'), '-m', 'immediate', '-w', 'stop']);
  fs.rmSync(scratch.folder, { recursive: true, force: true });
}

export async function pgVerifyJob(context: Context, profile: Profile): Promise<JobOutcome> {
  const host = snapshotHost(profile);
  const env = resticEnvironment(profile, context.paths);
  const version = await resticVersion(context.runner);
  const base = { host, resticVersion: version.text };
  const latest = await withRepositoryLock(context, profile, 'pg-verify', async () => {
    const listed = await callRestic(context, profile.name, 'finding the latest dump', ['snapshots', '--json', '--latest', '1', '--host', host, '--tag', jobTags(profile.name, 'pg-backup').join(',')], { env });
    return (JSON.parse(listed.stdout || '[]') as Array<{ id: string; short_id: string; paths: string[] }>).at(-1);
  });
  if (!latest) throw new JobError(`there is no database dump of ${profile.name} from ${host} to verify: run restic-systemd run pg-backup ${profile.name} first`, ExitCode.CommandFailed);
  const file = latest.paths[0]!;
  const decompressor = DECOMPRESSORS[path.extname(file)];

  const scratch = await startScratchCluster(context, profile);
  try {
    const resticStage = { tool: 'restic' as const, args: ['dump', latest.id, file], env: { ...baseEnvironment(), HOME: process.env.HOME ?? '/root', ...env } };
    const psqlStage = { tool: 'runuser' as const, args: ['-u', scratch.user, '--', toolBinary('psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres'], env: scratch.env };
    const stages = [resticStage, ...(decompressor ? [{ ...decompressor, env: baseEnvironment() }] : []), psqlStage];
    const results = await context.runner.pipeline(stages);
    const failed = results.find((result) => result.exitCode !== 0);
    if (failed) {
      throw new JobError(`restoring snapshot ${latest.short_id} failed at ${failed.command} (exit ${failed.exitCode}):\n${failed.stderr.trim().split('\n').slice(-5).join('\n')}`, ExitCode.CommandFailed);
    }
    const databases = (await querySql(context.runner, scratch.user, scratch.env, 'SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1')).map((row) => row[0]!);
    const report: string[] = [];
    let tables = 0;
    let rows = 0;
    for (const database of databases) {
      const [counts = ['0', '0']] = await querySql(context.runner, scratch.user, { ...scratch.env, PGDATABASE: database }, COUNT_ROWS);
      tables += Number(counts[0]);
      rows += Number(counts[1]);
      report.push(`${database}: ${counts[0]} tables, ${counts[1]} rows`);
    }
    context.log.info(report.join('\n'));
    return { ...base, result: 'success', exitCode: ExitCode.Ok, snapshotId: latest.short_id, message: `snapshot ${latest.short_id} (${file}) restores: ${databases.length} databases, ${tables} tables, ${rows} rows (${report.join('; ')})` };
  } finally {
    await removeScratchCluster(context, profile, scratch);
  }
}
