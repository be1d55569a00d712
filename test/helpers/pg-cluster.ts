/**
 * A real PostgreSQL primary + streaming standby managed by repmgr, on loopback ports, built by the
 * tests themselves (the host release's postgresql-<major> and postgresql-<major>-repmgr: 15 on
 * Debian 12, 17 on Debian 13) and always stopped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hostPostgresMajor } from './global-setup.js';

export const PG_MAJOR = hostPostgresMajor();
export const PG_BIN = `/usr/lib/postgresql/${PG_MAJOR}/bin`;

export interface PgCluster {
  base: string;
  primaryPort: number;
  standbyPort: number;
  /** Run SQL as postgres on a port; returns psql's unaligned output. */
  sql(port: number, sql: string, database?: string): string;
  /** The repmgrd daemon of the standby: start, stop, is it running. */
  repmgrd: { start(): void; stop(): void; running(): boolean; stopCommand: string; startCommand: string };
  restartStandby(): void;
  promoteStandby(): void;
  stop(): void;
}

export function asPostgres(args: string[], options: { allowFailure?: boolean } = {}): string {
  const result = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' });
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/**
 * The suite's fixed ports (25600-25799, docs/testing.md) lie below the kernel's ephemeral range: a
 * port inside it can be held, at the moment a server binds it, by any outgoing connection of the run.
 */
export function assertOutsideEphemeralRange(port: number): void {
  const [low = 32768, high = 60999] = fs
    .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  if (port >= low && port <= high)
    throw new Error(
      `port ${port} lies in this machine's ephemeral range ${low}-${high} (net.ipv4.ip_local_port_range): ` +
        `pick a test port outside it`,
    );
}

/** Start a node; when it does not come up, say why with the end of its own log. */
export function startNode(data: string, log: string): void {
  const result = spawnSync(
    'runuser',
    ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', data, '-l', log, '-w', 'start'],
    { encoding: 'utf8' },
  );
  if (result.status === 0) return;
  const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
  throw new Error(
    `pg_ctl start of ${data} failed (${result.status}):\n${result.stdout}${result.stderr}\n${log}:\n${tail}`,
  );
}

export function startCluster(primaryPort = 25632): PgCluster {
  const standbyPort = primaryPort + 1;
  [primaryPort, standbyPort].forEach(assertOutsideEphemeralRange);
  const listening = spawnSync('ss', ['-Hltn'], { encoding: 'utf8' }).stdout;
  for (const port of [primaryPort, standbyPort]) {
    if (new RegExp(`:${port}\\s`).test(listening))
      throw new Error(
        `port ${port} is taken (another test run, or a server left over?): stop it, then run the tests again`,
      );
  }
  const base = fs.mkdtempSync('/tmp/restic-systemd-pg-');
  execFileSync('chown', ['postgres:postgres', base]);
  fs.chmodSync(base, 0o755);
  const conf = (node: number) => path.join(base, `node${node}.conf`);
  const stopped: string[] = [];

  asPostgres([`${PG_BIN}/initdb`, '-D', `${base}/node1`, '-U', 'postgres', '-A', 'trust', '--no-instructions']);
  fs.appendFileSync(
    `${base}/node1/postgresql.conf`,
    `listen_addresses = '127.0.0.1'\nport = ${primaryPort}\nunix_socket_directories = '${base}'\nwal_level = ` +
      `replica\nmax_wal_senders = 10\n` +
      (`max_replication_slots = 10\nhot_standby = on\nwal_log_hints = on\nshared_preload_libraries = ` +
        `'repmgr'\nfsync = off\n`),
  );
  startNode(`${base}/node1`, `${base}/node1.log`);
  asPostgres([`${PG_BIN}/createuser`, '-h', base, '-p', String(primaryPort), '-s', 'repmgr']);
  asPostgres([`${PG_BIN}/createdb`, '-h', base, '-p', String(primaryPort), '-O', 'repmgr', 'repmgr']);
  for (const node of [1, 2]) {
    const port = node === 1 ? primaryPort : standbyPort;
    const text = [
      `node_id=${node}`,
      `node_name='node${node}'`,
      `conninfo='host=127.0.0.1 port=${port} user=repmgr dbname=repmgr connect_timeout=2'`,
      `data_directory='${base}/node${node}'`,
      `pg_bindir='${PG_BIN}'`,
      'use_replication_slots=yes',
      `log_file='${base}/repmgrd-node${node}.log'`,
      `repmgrd_pid_file='${base}/repmgrd-node${node}.pid'`,
      "failover='manual'",
      `promote_command='${PG_BIN}/repmgr standby promote -f ${conf(node)} --log-to-file'`,
      `follow_command='${PG_BIN}/repmgr standby follow -f ${conf(node)} --log-to-file --upstream-node-id=%n'`,
      'monitor_interval_secs=2',
      `service_start_command='${PG_BIN}/pg_ctl -D ${base}/node${node} -l ${base}/node${node}.log -w start'`,
      `service_stop_command='${PG_BIN}/pg_ctl -D ${base}/node${node} -m fast -w stop'`,
      `service_restart_command='${PG_BIN}/pg_ctl -D ${base}/node${node} -l ${base}/node${node}.log -w restart'`,
      `service_promote_command='${PG_BIN}/pg_ctl -D ${base}/node${node} -w promote'`,
      `repmgrd_service_start_command='${PG_BIN}/repmgrd -f ${conf(node)}'`,
      `repmgrd_service_stop_command='kill $(cat ${base}/repmgrd-node${node}.pid)'`,
      '',
    ].join('\n');
    fs.writeFileSync(conf(node), text);
    execFileSync('chown', ['postgres:postgres', conf(node)]);
  }
  asPostgres([`${PG_BIN}/repmgr`, '-f', conf(1), 'primary', 'register']);
  asPostgres([
    `${PG_BIN}/repmgr`,
    '-h',
    '127.0.0.1',
    '-p',
    String(primaryPort),
    '-U',
    'repmgr',
    '-d',
    'repmgr',
    '-f',
    conf(2),
    'standby',
    'clone',
    '--fast-checkpoint',
  ]);
  fs.appendFileSync(`${base}/node2/postgresql.conf`, `port = ${standbyPort}\n`);
  startNode(`${base}/node2`, `${base}/node2.log`);
  asPostgres([`${PG_BIN}/repmgr`, '-f', conf(2), 'standby', 'register', '--wait-sync=30']);

  const repmgrdPid = path.join(base, 'repmgrd-node2.pid');
  const repmgrdRunning = () => {
    try {
      process.kill(Number(fs.readFileSync(repmgrdPid, 'utf8').trim()), 0);
      return true;
    } catch {
      return false;
    }
  };
  const waitFor = (condition: () => boolean, what: string) => {
    for (let tries = 0; tries < 100 && !condition(); tries++) spawnSync('sleep', ['0.1']);
    if (!condition()) throw new Error(`timed out waiting for ${what}`);
  };
  const cluster: PgCluster = {
    base,
    primaryPort,
    standbyPort,
    sql: (port, sql, database = 'postgres') =>
      asPostgres([
        `${PG_BIN}/psql`,
        '-X',
        '-A',
        '-t',
        '-q',
        '-h',
        base,
        '-p',
        String(port),
        '-d',
        database,
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        sql,
      ]).trim(),
    repmgrd: {
      start: () => {
        asPostgres([`${PG_BIN}/repmgrd`, '-f', conf(2)]);
        waitFor(repmgrdRunning, 'repmgrd to start');
      },
      stop: () => {
        if (repmgrdRunning()) process.kill(Number(fs.readFileSync(repmgrdPid, 'utf8').trim()));
        waitFor(() => !repmgrdRunning(), 'repmgrd to stop');
      },
      running: repmgrdRunning,
      stopCommand: `runuser -u postgres -- ${PG_BIN}/repmgr -f ${conf(2)} daemon stop`,
      startCommand: `runuser -u postgres -- ${PG_BIN}/repmgr -f ${conf(2)} daemon start`,
    },
    restartStandby: () =>
      asPostgres([
        `${PG_BIN}/pg_ctl`,
        '-D',
        `${base}/node2`,
        '-l',
        `${base}/node2.log`,
        '-m',
        'fast',
        '-w',
        'restart',
      ]) && undefined,
    promoteStandby: () => asPostgres([`${PG_BIN}/pg_ctl`, '-D', `${base}/node2`, '-w', 'promote']) && undefined,
    stop: () => {
      if (stopped.length > 0) return;
      stopped.push('yes');
      if (repmgrdRunning()) cluster.repmgrd.stop();
      for (const node of [2, 1])
        asPostgres([`${PG_BIN}/pg_ctl`, '-D', `${base}/node${node}`, '-m', 'immediate', '-w', 'stop'], {
          allowFailure: true,
        });
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** The lines of a profile "db" that dumps this cluster's standby (or another port) into /srv/repo, as postgres. */
export function standbyProfileLines(cluster: PgCluster, port = cluster.standbyPort): string[] {
  return [
    'RESTIC_REPOSITORY=/srv/repo',
    'RESTIC_PASSWORD_FILE=/etc/restic/db.password',
    `PGHOST=${cluster.base}`,
    `PGPORT=${port}`,
    'PGUSER=postgres',
    'PGDATABASE=postgres',
    'PG_OS_USER=postgres',
  ];
}

/** The scratch clusters' folders of restore drills (pg-verify) in /var/tmp, of any run of this machine. */
export function scratchFolders(): string[] {
  return fs.readdirSync('/var/tmp').filter((entry) => entry.startsWith('restic-systemd-verify-'));
}

/**
 * The drills run since `before` left no scratch folder. A folder of a drill that another test file
 * runs at the same time (jest runs two files at once) disappears when that drill ends; one left
 * behind does not: new folders are given a minute to go.
 */
export function newScratchFoldersLeft(before: readonly string[]): string[] {
  const left = () => scratchFolders().filter((entry) => !before.includes(entry));
  for (let tries = 0; tries < 120 && left().length > 0; tries++) spawnSync('sleep', ['0.5']);
  return left();
}
