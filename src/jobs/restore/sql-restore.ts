/**
 * Restoring the single-file SQL dumps of PG_DUMP_FORMAT=sql (and of every release before the
 * per-database archives): `restic dump` of the file, decompressed, cut by awk to the databases
 * asked for, into psql, process to process. One database comes back as the manual procedure did
 * (under another name if asked: its own statements renamed on the way), or all of them; on one
 * core, as SQL restores. The roles come from the dump's own roles part, as for an archive: only
 * the missing ones are created. The dump's DROP statements are never run.
 */
import path from 'node:path';
import type { Context } from '../../context.js';
import { ExitCode, JobError, UsageError } from '../../errors.js';
import { baseEnvironment, type PipelineStage } from '../../exec/runner.js';
import { globalsToRestore } from '../../formats/pg-globals.js';
import { conninfoFor, quoteIdentifier } from '../../formats/sql-text.js';
import { onTarget, queryTarget, type RestoreTarget } from '../../tools/postgres.js';
import { resticStage, type Restic } from '../restic-call.js';
import type { Profile } from '../../profile/model.js';
import { asideName } from './archive-restore.js';
import { removeRestoreMarker, undoRestore, writeRestoreMarker, type RestoreMarker } from './restore-marker.js';
import type { ResticSnapshot } from './snapshots.js';

const DECOMPRESS: Record<string, PipelineStage | undefined> = {
  '.gz': { tool: 'gzip', args: ['-d', '-c'], env: baseEnvironment() },
  '.zst': { tool: 'zstd', args: ['-d', '-q', '-c'], env: baseEnvironment() },
};

// pg_dumpall's section of one database runs from its header to the next header or the end. Names
// and the new name come from the environment (never from awk's program text, never unescaped).
const AWK_CUT = String.raw`
BEGIN { want = ENVIRON["RESTORE_DATABASE"]; from = ENVIRON["RESTORE_FROM"]; to = ENVIRON["RESTORE_TO"] }
/^-- Database ".*" dump$/ {
  name = substr($0, 14, length($0) - 19)
  on = (want == "") ? (name != "template1") : (name == want)
  copying = 0
}
/^-- PostgreSQL database cluster dump complete$/ { on = 0 }
!on { next }
copying { print; if ($0 == "\\.") copying = 0; next }
/^COPY / { copying = 1; print; next }
/^DROP DATABASE / { next }
/^UPDATE pg_database SET datistemplate/ { next }
from != "" && /^\\connect / { print ENVIRON["RESTORE_CONNECT"]; next }
from != "" && /^(CREATE DATABASE|ALTER DATABASE|COMMENT ON DATABASE|ALTER ROLE .* IN DATABASE) / { rename() }
from != "" && /^(GRANT|REVOKE) .* ON DATABASE / { rename() }
{ print }
function rename() {
  for (i = 1; i <= 2; i++) {
    f = (i == 1) ? ENVIRON["RESTORE_FROM_QUOTED"] : from
    p = index($0, "DATABASE " f)
    after = substr($0, p + 9 + length(f), 1)
    if (p > 0 && (after == " " || after == ";")) { $0 = substr($0, 1, p + 8) to substr($0, p + 9 + length(f)); break }
  }
}`;

// In one reading of the dump: the part before the databases (roles, memberships, tablespaces, and the
// --clean DROPs, which are never run), each line after "G", and the database names, each after "D".
const AWK_SURVEY = String.raw`
/^-- Databases$/ { databases = 1 }
!databases { print "G" $0 }
/^-- Database ".*" dump$/ { print "D" substr($0, 14, length($0) - 19) }`;

/** The dump file of a snapshot of the SQL format: the stages that turn it back into SQL. */
function sqlStages(restic: Restic, snapshot: ResticSnapshot): PipelineStage[] {
  const file = snapshot.paths[0]!;
  const dump = resticStage(restic, ['dump', '--', snapshot.id, file]);
  const decompress = DECOMPRESS[path.extname(file)];
  return decompress ? [dump, decompress] : [dump];
}

async function awkLines(
  context: Context,
  restic: Restic,
  snapshot: ResticSnapshot,
  program: string,
): Promise<string[]> {
  const lines: string[] = [];
  const results = await context.runner.pipeline(
    [...sqlStages(restic, snapshot), { tool: 'awk', args: [program], env: baseEnvironment() }],
    { onStdoutLine: (line) => lines.push(line) },
  );
  const failed = results.find((result) => result.exitCode !== 0);
  if (failed)
    throw new JobError(
      `reading the dump failed at ${failed.command}: ` + `${failed.stderr.trim()}`,
      ExitCode.RestoreFailed,
    );
  return lines;
}

/** What a single-file dump holds: its roles part and its databases (it is read once, start to end). */
export async function surveySqlDump(
  context: Context,
  restic: Restic,
  snapshot: ResticSnapshot,
): Promise<{ globals: string; databases: string[] }> {
  const lines = await awkLines(context, restic, snapshot, AWK_SURVEY);
  return {
    globals: lines
      .filter((line) => line.startsWith('G'))
      .map((line) => line.slice(1))
      .join('\n'),
    databases: lines.filter((line) => line.startsWith('D') && line !== 'Dtemplate1').map((line) => line.slice(1)),
  };
}

export interface SqlRestoreRequest {
  /** One database, or every one (undefined). */
  database?: string;
  as?: string;
  target: RestoreTarget;
  replace: boolean;
  updateRoles: boolean;
}

/** Restore from a single-file dump; the databases restored, as they are named in the target. */
export async function restoreSqlDump(
  context: Context,
  restic: Restic,
  profile: Profile,
  snapshot: ResticSnapshot,
  request: SqlRestoreRequest,
): Promise<{ restored: string[]; renamedAside: Array<{ from: string; to: string }> }> {
  const { runner, log } = context;
  const { target } = request;
  const [[recovery, currentUser = ''] = []] = await queryTarget(
    runner,
    target,
    'template1',
    'SELECT pg_is_in_recovery(), ' + 'current_user',
  );
  if (recovery === 't')
    throw new UsageError('the target (--to) is a standby, in recovery: name the primary, or ' + 'a cluster of its own');
  const survey = await surveySqlDump(context, restic, snapshot);
  if (request.database && !survey.databases.includes(request.database)) {
    throw new UsageError(`the dump has no database ${request.database}: it has ${survey.databases.join(', ')}`);
  }
  const names = request.database ? [request.database] : survey.databases;
  const existing = new Set(
    (await queryTarget(runner, target, 'template1', 'SELECT datname FROM pg_database')).map((row) => row[0]!),
  );
  const targetName = (name: string) => (request.as && name === request.database ? request.as : name);
  const clashing = names.map(targetName).filter((name) => existing.has(name));
  if (clashing.length > 0 && !request.replace) {
    throw new JobError(
      `the target already has ${clashing.join(', ')}; nothing was changed. Restore it --as NEWNAME, or give ` +
        `--replace ` +
        'to rename the live one aside first (it is never dropped)',
      ExitCode.TargetExists,
    );
  }
  const roles = (await queryTarget(runner, target, 'template1', 'SELECT rolname FROM pg_roles')).map((row) => row[0]!);
  const spaces = (await queryTarget(runner, target, 'template1', 'SELECT spcname FROM pg_tablespace')).map(
    (row) => row[0]!,
  );
  const globals = globalsToRestore(
    survey.globals,
    { roles: new Set(roles), tablespaces: new Set(spaces), currentUser },
    { updateRoles: request.updateRoles },
  );
  const renamedAside: Array<{ from: string; to: string }> = [];
  // Every database the stream creates did not exist before it (or was renamed aside): a failure drops them.
  const marker: RestoreMarker = {
    pid: process.pid,
    start: new Date().toISOString(),
    target,
    created: [],
    renamed: renamedAside,
  };
  writeRestoreMarker(context.paths, `${profile.name}.restore`, marker);
  for (const name of clashing) {
    const aside = asideName(name);
    renamedAside.push({ from: name, to: aside });
    writeRestoreMarker(context.paths, `${profile.name}.restore`, marker);
    await queryTarget(
      runner,
      target,
      'template1',
      `ALTER DATABASE ${quoteIdentifier(name)} RENAME TO ` + `${quoteIdentifier(aside)}`,
    );
    log.info(`renamed the live database ${name} aside to ${aside}`);
  }
  marker.created = names.map(targetName);
  writeRestoreMarker(context.paths, `${profile.name}.restore`, marker);
  await queryTarget(runner, target, 'template1', globals.sql, { input: true });
  const psql = onTarget(target, 'psql', [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-d',
    conninfoFor(target.pairs, 'template1'),
  ]);
  const to = request.as ?? '';
  const cut: PipelineStage = {
    tool: 'awk',
    args: [AWK_CUT],
    env: {
      ...baseEnvironment(),
      RESTORE_DATABASE: request.database ?? '',
      RESTORE_FROM: request.as ? request.database! : '',
      RESTORE_FROM_QUOTED: request.as ? quoteIdentifier(request.database!) : '',
      RESTORE_TO: quoteIdentifier(to),
      RESTORE_CONNECT:
        `\\connect -reuse-previous=on ` +
        `"dbname='${to.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('"', '""')}'"`,
    },
  };
  log.info(`restoring ${request.database ?? 'every database'} of ${snapshot.paths[0]} (one SQL stream, one core)`);
  const results = await runner.pipeline([
    ...sqlStages(restic, snapshot),
    cut,
    { tool: psql.tool, args: psql.args, env: baseEnvironment() },
  ]);
  const failed = results.find((result) => result.exitCode !== 0 || result.signal);
  if (failed) {
    const said = failed.stderr.trim().split('\n').slice(-6).join('\n');
    const problems = await undoRestore(context, `${profile.name}.restore`, marker);
    const undone = problems.length > 0 ? `\nNot undone:\n${problems.map((problem) => `  ${problem}`).join('\n')}` : '';
    throw new JobError(`the restore failed at ${failed.command}:\n${said}${undone}`, ExitCode.RestoreFailed);
  }
  removeRestoreMarker(context.paths, `${profile.name}.restore`);
  return { restored: names.map(targetName), renamedAside };
}
