/**
 * The cluster a restore goes into: a new PostgreSQL cluster of the host's release, initdb'd by the
 * benchmark with the default settings (fsync, synchronous_commit, shared_buffers, max_wal_size and
 * maintenance_work_mem as initdb leaves them); only where it listens is set: a socket in the source
 * cluster's folder, on a port of its own, no TCP. Stopped and removed by `stop()`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PG_BIN, startNode } from '../test/helpers/pg-cluster.js';

export interface RestoreTarget {
  /** The `--to` of the restore command: libpq pairs. */
  to: string;
  /** Where psql and pg_restore reach it. */
  socketDir: string;
  port: number;
  /** Run SQL as postgres; psql's unaligned output. */
  sql(statement: string, database?: string): string;
  /** Drop these databases, then CHECKPOINT and sync: the next restore starts as this one did. */
  reset(databases: readonly string[]): void;
  stop(): void;
}

function asPostgres(args: string[]): string {
  const result = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

/** initdb and start a cluster in `folder` (its parent postgres's), listening on `socketDir` and `port`. */
export function startRestoreTarget(folder: string, socketDir: string, port: number): RestoreTarget {
  const data = path.join(folder, `restore-target-${port}`);
  asPostgres([`${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '-A', 'trust', '--no-instructions']);
  fs.appendFileSync(
    path.join(data, 'postgresql.conf'),
    `port = ${port}\nlisten_addresses = ''\nunix_socket_directories = '${socketDir}'\n`,
  );
  startNode(data, `${data}.log`);
  let stopped = false;
  const sql = (statement: string, database = 'postgres') =>
    asPostgres([
      `${PG_BIN}/psql`,
      '-X',
      '-A',
      '-t',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      socketDir,
      '-p',
      String(port),
      '-d',
      database,
      '-c',
      statement,
    ]).trim();
  return {
    to: `host=${socketDir} port=${port}`,
    socketDir,
    port,
    sql,
    reset: (databases) => {
      for (const database of databases) sql(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      sql('CHECKPOINT');
      spawnSync('sync');
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      spawnSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', 'stop']);
      fs.rmSync(data, { recursive: true, force: true });
      fs.rmSync(`${data}.log`, { force: true });
    },
  };
}
