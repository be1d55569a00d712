/**
 * A real Patroni cluster, a leader and a streaming replica, on an etcd of its own, all on loopback ports, built
 * by the tests themselves from Debian's packages (patroni, etcd-server, python3-etcd: installed by the set-up)
 * and the host release's PostgreSQL, and always torn down.
 *
 * etcd runs as a child of the test process (no systemd), its data in the cluster's folder, listening on
 * 127.0.0.1 only. Patroni talks to it through its etcd3 client (etcd's v3 gRPC gateway; the v2 API stays off).
 * The two Patroni daemons run as postgres, each in a process group of its own, logging into the cluster's
 * folder; their PostgreSQL listens on 127.0.0.1 and on a unix socket in the folder (libpq's host=<base>).
 * The HA loop runs every 2 s (loop_wait), so Patroni's reactions come within seconds.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PG_BIN, asPostgres, assertOutsideEphemeralRange } from './pg-cluster.js';

/** The two members, by their Patroni names: node1 is bootstrapped as the leader, node2 cloned as its replica. */
export type PatroniNode = 'node1' | 'node2';
export const PATRONI_NODES: readonly PatroniNode[] = ['node1', 'node2'];

/**
 * The ports of the cluster, basePort and the five above it: etcd's client and peer ports, the PostgreSQL of
 * node1 and node2, the REST API of node1 and node2. The default, 25760-25765 (patroni-job.test.ts), lies in the
 * suite's range of fixed ports (docs/testing.md); patroni-cluster.test.ts takes 25770-25775, so that the two files
 * can run at the same time.
 */
export const PATRONI_BASE_PORT = 25760;

export interface PatroniClusterOptions {
  /** The first of the six ports (default PATRONI_BASE_PORT). */
  basePort?: number;
  /** Patroni's scope, the cluster's name in etcd (default restic-systemd-test). */
  scope?: string;
  /** How long the leader, then the replica, may take to come up (default 90 s each). */
  startTimeoutMs?: number;
}

export interface PatroniCluster {
  /** The cluster's folder: etcd's and both members' data, their configurations and logs, the unix sockets. */
  base: string;
  scope: string;
  etcdPort: number;
  etcdPeerPort: number;
  /** The PostgreSQL port of node1, the leader as built (after a switchover, see leaderNode()). */
  leaderPort: number;
  /** The PostgreSQL port of node2, the replica as built. */
  replicaPort: number;
  /** Patroni's REST API port of node1. */
  leaderRestPort: number;
  /** Patroni's REST API port of node2. */
  replicaRestPort: number;
  /** A member's PostgreSQL port. */
  portOf(node: PatroniNode): number;
  /** A member's REST API port. */
  restPortOf(node: PatroniNode): number;
  /** The path of a member's Patroni configuration (root:postgres 0640). */
  configOf(node: PatroniNode): string;
  /** The configuration of node2, the replica as built: what a backup of the replica would be given. */
  replicaConfig: string;
  /** Run SQL as postgres on a port, through the unix socket in base; returns psql's unaligned output. */
  sql(port: number, sql: string, database?: string): string;
  /** pg_get_wal_replay_pause_state() on a port: 'not paused', 'pause requested' or 'paused'. */
  pauseState(port: number): string;
  /** Run `patronictl -c <replica's config> ...args` as root; returns its stdout, throws (with stderr) on failure. */
  patronictl(args: string[]): string;
  /** GET a path of a REST API port (e.g. /patroni), the body parsed as JSON when it is JSON. */
  rest(port: number, urlPath: string): { status: number; body: unknown };
  /** Whether the cluster is paused (maintenance mode): `pause: true` in the DCS configuration (show-config). */
  maintenance(): boolean;
  /** The member that holds the leader lock now (patronictl list). */
  leaderNode(): PatroniNode;
  /** Make the other member the leader (patronictl switchover --force), then wait until the old one streams. */
  switchover(): void;
  /** SIGTERM a member's Patroni and wait until it has exited (in maintenance mode its PostgreSQL keeps running). */
  stopPatroni(node: PatroniNode): void;
  /** Start a member's Patroni again and wait until its PostgreSQL runs (a replica: until it streams). */
  startPatroni(node: PatroniNode): void;
  /** Tear everything down: both Patroni daemons, their PostgreSQL (pg_ctl -m immediate), etcd; remove base. */
  stop(): void;
}

const LOOP_WAIT_S = 2;
const PATRONICTL_TIMEOUT_MS = 60_000;
/**
 * The PATH of the daemons and of patronictl, whose environment is not the test process' (no PG*, no ETCD_*, no
 * PYTHON*): Debian's python3 (which has Patroni's modules), not one of root's PATH (pyenv's, on this machine).
 */
const CLEAN_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

function listeningPorts(): string {
  return spawnSync('ss', ['-Hltn'], { encoding: 'utf8' }).stdout;
}

function isListening(port: number, listening = listeningPorts()): boolean {
  return new RegExp(`:${port}\\s`).test(listening);
}

function tail(file: string, lines = 25): string {
  if (!fs.existsSync(file)) return `${file}: (no log)`;
  return `${file}:\n${fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`;
}

function sleepSync(ms: number): void {
  spawnSync('sleep', [String(ms / 1000)]);
}

/**
 * Poll `condition` every `intervalMs` until it holds (an exception counts as "not yet"), for at most `timeoutMs`;
 * on timeout, throw naming what was awaited, the last exception, and `details()` (the logs' ends). Synchronous,
 * as the rest of the helper (and test/helpers/pg-cluster.ts).
 */
function waitUntil(
  what: string,
  condition: () => boolean,
  timeoutMs: number,
  details: () => string = () => '',
  intervalMs = 300,
): void {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (condition()) return;
      last = undefined;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) break;
    sleepSync(intervalMs);
  }
  const reason = last === undefined ? '' : `\nlast error: ${(last as Error).message ?? String(last)}`;
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${reason}\n${details()}`);
}

/** GET a loopback URL synchronously (the helper's waits block the event loop): with Debian's python3, 5 s timeout. */
function httpGet(url: string): { status: number; text: string } {
  const script = [
    'import json, sys, urllib.error, urllib.request',
    'try:',
    '    with urllib.request.urlopen(sys.argv[1], timeout=5) as response:',
    '        status, text = response.status, response.read().decode()',
    'except urllib.error.HTTPError as error:',
    '    status, text = error.code, error.read().decode()',
    'print(json.dumps({"status": status, "text": text}))',
  ].join('\n');
  const result = spawnSync('/usr/bin/python3', ['-c', script, url], {
    encoding: 'utf8',
    env: { PATH: CLEAN_PATH },
    timeout: 10_000,
  });
  if (result.status !== 0)
    throw new Error(`GET ${url} failed: ${result.stderr.trim().split('\n').pop() || result.error?.message}`);
  return JSON.parse(result.stdout) as { status: number; text: string };
}

/** A minimal YAML writer for the configurations: maps, lists and scalars (strings double-quoted, as JSON). */
function toYaml(value: unknown, indent = ''): string {
  const scalar = (item: unknown) => (typeof item === 'string' ? JSON.stringify(item) : String(item));
  if (Array.isArray(value))
    return value
      .map((item) =>
        item !== null && typeof item === 'object'
          ? `${indent}-\n${toYaml(item, `${indent}  `)}`
          : `${indent}- ${scalar(item)}\n`,
      )
      .join('');
  return Object.entries(value as Record<string, unknown>)
    .map(([key, item]) =>
      item !== null && typeof item === 'object'
        ? `${indent}${key}:\n${toYaml(item, `${indent}  `)}`
        : `${indent}${key}: ${scalar(item)}\n`,
    )
    .join('');
}

interface Daemon {
  child: ChildProcess;
  running(): boolean;
}

/** Whether a process exists and is not a zombie (the waits block the event loop, so Node has not reaped it yet). */
function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Start a program detached (a process group of its own), its stdout and stderr appended to a log. */
function startDaemon(command: string, args: string[], log: string, env: NodeJS.ProcessEnv): Daemon {
  const fd = fs.openSync(log, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env });
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
    child.unref();
    return { child, running: () => !exited && alive(child.pid) };
  } finally {
    fs.closeSync(fd);
  }
}

/** SIGTERM a daemon's process group, SIGKILL after `graceMs`; returns when it has exited. */
function stopDaemon(daemon: Daemon, what: string, graceMs: number): void {
  const signal = (name: NodeJS.Signals) => {
    try {
      if (daemon.child.pid !== undefined) process.kill(-daemon.child.pid, name);
    } catch {
      // already gone
    }
  };
  if (!daemon.running()) return;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (daemon.running() && Date.now() < deadline) sleepSync(100);
  if (daemon.running()) {
    signal('SIGKILL');
    waitUntil(`${what} (pid ${daemon.child.pid}) to die of SIGKILL`, () => !daemon.running(), 10_000);
  }
}

/**
 * Build the cluster: etcd, then node1's Patroni (initdb, the leader), then node2's (pg_basebackup from node1), and
 * wait until the leader runs and the replica streams and has replayed the leader's WAL. A start that fails midway
 * stops what it started, removes the folder, and throws with the end of the logs.
 */
export function startPatroniCluster(options: PatroniClusterOptions = {}): PatroniCluster {
  const basePort = options.basePort ?? PATRONI_BASE_PORT;
  const scope = options.scope ?? 'restic-systemd-test';
  const startTimeoutMs = options.startTimeoutMs ?? 90_000;
  const [etcdPort, etcdPeerPort, port1, port2, rest1, rest2] = [0, 1, 2, 3, 4, 5].map(
    (offset) => basePort + offset,
  ) as [number, number, number, number, number, number];
  const allPorts = [etcdPort, etcdPeerPort, port1, port2, rest1, rest2];
  allPorts.forEach(assertOutsideEphemeralRange);
  const listening = listeningPorts();
  for (const port of allPorts)
    if (isListening(port, listening))
      throw new Error(
        `port ${port} is taken (another test run, or a Patroni, PostgreSQL or etcd left over?): stop it, then run ` +
          `the tests again`,
      );

  const base = fs.mkdtempSync('/tmp/restic-systemd-patroni-');
  spawnSync('chown', ['postgres:postgres', base]);
  fs.chmodSync(base, 0o755);
  const portOf = (node: PatroniNode) => (node === 'node1' ? port1 : port2);
  const restPortOf = (node: PatroniNode) => (node === 'node1' ? rest1 : rest2);
  const configOf = (node: PatroniNode) => path.join(base, `${node}.yml`);
  const dataOf = (node: PatroniNode) => path.join(base, node);
  const logOf = (node: PatroniNode) => path.join(base, `${node}.patroni.log`);
  const etcdLog = path.join(base, 'etcd.log');
  const logs = () => [tail(etcdLog, 10), ...PATRONI_NODES.map((node) => tail(logOf(node)))].join('\n-----\n');

  const env: NodeJS.ProcessEnv = { PATH: CLEAN_PATH, LANG: 'C.UTF-8', TZ: 'UTC' };
  const rootEnv: NodeJS.ProcessEnv = { ...env, HOME: '/root' };
  let etcd: Daemon | undefined;
  const patroni = new Map<PatroniNode, Daemon>();
  let stopped = false;

  const sql = (port: number, text: string, database = 'postgres') =>
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
      text,
    ]).trim();
  // Bounded: patronictl retries for ever (measured: over 10 minutes, silent) when etcd does not answer.
  const patronictl = (args: string[]) => {
    const result = spawnSync('patronictl', ['-c', configOf('node2'), ...args], {
      encoding: 'utf8',
      env: rootEnv,
      timeout: PATRONICTL_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    if (result.status !== 0) {
      const how = result.error
        ? `did not end within ${PATRONICTL_TIMEOUT_MS / 1000} s (${result.error.message})`
        : `failed (${result.status ?? result.signal})`;
      throw new Error(`patronictl ${args.join(' ')} ${how}:\n${result.stdout}${result.stderr}`);
    }
    return result.stdout;
  };
  const rest = (port: number, urlPath: string) => {
    const { status, text } = httpGet(`http://127.0.0.1:${port}${urlPath}`);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the text
    }
    return { status, body };
  };
  const memberState = (node: PatroniNode) =>
    rest(restPortOf(node), '/patroni').body as { state?: string; role?: string; pause?: boolean };
  const leaderNode = (): PatroniNode => {
    const members = JSON.parse(patronictl(['list', '-f', 'json'])) as Array<{ Member: string; Role: string }>;
    const leader = members.find((member) => member.Role === 'Leader')?.Member;
    if (leader !== 'node1' && leader !== 'node2')
      throw new Error(`no member holds the leader lock: ${JSON.stringify(members)}`);
    return leader;
  };
  const other = (node: PatroniNode): PatroniNode => (node === 'node1' ? 'node2' : 'node1');

  /** The member runs as the leader: its Patroni says so and its PostgreSQL takes writes. */
  const waitLeader = (node: PatroniNode, timeoutMs: number) =>
    waitUntil(
      `${node} to run as the leader (Patroni's REST API on ${restPortOf(node)} role master, state running; ` +
        `pg_is_in_recovery() false on ${portOf(node)})`,
      () => {
        const state = memberState(node);
        return (
          state.state === 'running' &&
          (state.role === 'master' || state.role === 'primary') &&
          sql(portOf(node), 'SELECT pg_is_in_recovery()') === 'f'
        );
      },
      timeoutMs,
      logs,
    );

  /** The member runs as a replica of the other, streams from it, and has replayed the other's WAL position. */
  const waitStreaming = (node: PatroniNode, timeoutMs: number) => {
    const leader = other(node);
    waitUntil(
      `${node} (port ${portOf(node)}) to run as a replica in recovery streaming from ${leader} (port ` +
        `${portOf(leader)})`,
      () => {
        const state = memberState(node);
        return (
          state.state === 'running' &&
          state.role === 'replica' &&
          sql(portOf(node), 'SELECT pg_is_in_recovery()') === 't' &&
          sql(portOf(node), 'SELECT status FROM pg_stat_wal_receiver') === 'streaming'
        );
      },
      timeoutMs,
      logs,
    );
    const lsn = sql(portOf(leader), 'SELECT pg_current_wal_lsn()');
    waitUntil(
      `${node} to replay ${leader}'s WAL up to ${lsn}`,
      () => sql(portOf(node), `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn`) === 't',
      timeoutMs,
      logs,
    );
  };

  const writeConfig = (node: PatroniNode) => {
    const config = {
      scope,
      name: node,
      log: { level: 'INFO' },
      restapi: { listen: `127.0.0.1:${restPortOf(node)}`, connect_address: `127.0.0.1:${restPortOf(node)}` },
      etcd3: { hosts: [`127.0.0.1:${etcdPort}`], protocol: 'http' },
      bootstrap: {
        dcs: {
          ttl: 10,
          loop_wait: LOOP_WAIT_S,
          retry_timeout: 4,
          maximum_lag_on_failover: 1048576,
          postgresql: {
            use_pg_rewind: false,
            use_slots: true,
            parameters: {
              fsync: 'off',
              wal_level: 'replica',
              hot_standby: 'on',
              max_wal_senders: 10,
              max_replication_slots: 10,
              wal_log_hints: 'on',
            },
          },
        },
        initdb: [{ encoding: 'UTF8' }],
      },
      postgresql: {
        listen: `127.0.0.1:${portOf(node)}`,
        connect_address: `127.0.0.1:${portOf(node)}`,
        data_dir: dataOf(node),
        bin_dir: PG_BIN,
        pgpass: path.join(base, `${node}.pgpass`),
        authentication: {
          superuser: { username: 'postgres', password: 'patroni-superuser-4f1c' },
          replication: { username: 'replicator', password: 'patroni-replicator-4f1c' },
        },
        parameters: { unix_socket_directories: base },
        pg_hba: ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust'],
      },
      watchdog: { mode: 'off' },
      tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
    };
    fs.writeFileSync(configOf(node), toYaml(config), { mode: 0o640 });
    // root's, readable by postgres (the daemon) and by root's patronictl
    spawnSync('chown', ['root:postgres', configOf(node)]);
    fs.chmodSync(configOf(node), 0o640);
  };

  const launchPatroni = (node: PatroniNode) => {
    const daemon = startDaemon(
      'setpriv',
      ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', 'patroni', configOf(node)],
      logOf(node),
      { ...env, HOME: '/var/lib/postgresql', USER: 'postgres', LOGNAME: 'postgres' },
    );
    patroni.set(node, daemon);
  };

  const stopPatroni = (node: PatroniNode) => {
    const daemon = patroni.get(node);
    if (!daemon) return;
    // Patroni shuts its PostgreSQL down (fast) on SIGTERM, unless paused; it is given time for that.
    stopDaemon(daemon, `${node}'s Patroni`, 30_000);
    patroni.delete(node);
    waitUntil(
      `${node}'s REST API port ${restPortOf(node)} to be closed`,
      () => !isListening(restPortOf(node)),
      10_000,
      logs,
    );
  };

  const stop = () => {
    if (stopped) return;
    stopped = true;
    const problems: string[] = [];
    for (const node of PATRONI_NODES) {
      try {
        stopPatroni(node);
      } catch (error) {
        problems.push(String(error));
      }
    }
    for (const node of PATRONI_NODES)
      if (fs.existsSync(path.join(dataOf(node), 'postmaster.pid')))
        asPostgres([`${PG_BIN}/pg_ctl`, '-D', dataOf(node), '-m', 'immediate', '-w', 'stop'], { allowFailure: true });
    if (etcd) stopDaemon(etcd, 'etcd', 10_000);
    const left = allPorts.filter((port) => isListening(port));
    fs.rmSync(base, { recursive: true, force: true });
    if (left.length > 0) problems.push(`ports still listening after the teardown: ${left.join(', ')}`);
    if (problems.length > 0) throw new Error(`the Patroni cluster's teardown: ${problems.join('\n')}`);
  };

  try {
    const etcdData = path.join(base, 'etcd');
    const peer = `http://127.0.0.1:${etcdPeerPort}`;
    const client = `http://127.0.0.1:${etcdPort}`;
    etcd = startDaemon(
      'etcd',
      [
        '--name=test',
        `--data-dir=${etcdData}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=test=${peer}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=${path.basename(base)}`,
        '--logger=zap',
        '--log-outputs=stderr',
      ],
      etcdLog,
      rootEnv,
    );
    waitUntil(
      `etcd to answer on ${client}/health`,
      () => {
        if (!etcd?.running()) throw new Error('etcd exited');
        return (rest(etcdPort, '/health').body as { health?: string }).health === 'true';
      },
      30_000,
      logs,
    );

    for (const node of PATRONI_NODES) writeConfig(node);
    launchPatroni('node1');
    waitLeader('node1', startTimeoutMs);
    launchPatroni('node2');
    waitStreaming('node2', startTimeoutMs);
  } catch (error) {
    try {
      stop();
    } catch (teardown) {
      if (error instanceof Error) error.message += `\n(and then ${(teardown as Error).message})`;
    }
    throw error;
  }

  return {
    base,
    scope,
    etcdPort,
    etcdPeerPort,
    leaderPort: port1,
    replicaPort: port2,
    leaderRestPort: rest1,
    replicaRestPort: rest2,
    portOf,
    restPortOf,
    configOf,
    replicaConfig: configOf('node2'),
    sql,
    pauseState: (port) => sql(port, 'SELECT pg_get_wal_replay_pause_state()'),
    patronictl,
    rest,
    maintenance: () => /^pause: true$/m.test(patronictl(['show-config'])),
    leaderNode,
    switchover: () => {
      const leader = leaderNode();
      const candidate = other(leader);
      patronictl(['switchover', '--leader', leader, '--candidate', candidate, '--force']);
      waitUntil(
        `${candidate} to hold the leader lock after the switchover`,
        () => leaderNode() === candidate,
        60_000,
        logs,
      );
      waitLeader(candidate, 60_000);
      waitStreaming(leader, 60_000);
    },
    stopPatroni,
    startPatroni: (node) => {
      if (patroni.has(node)) throw new Error(`${node}'s Patroni is running already`);
      launchPatroni(node);
      let leader: PatroniNode | undefined;
      waitUntil(
        'a member to hold the leader lock (patronictl list)',
        () => (leader = leaderNode()) !== undefined,
        startTimeoutMs,
        logs,
      );
      if (leader === node) waitLeader(node, startTimeoutMs);
      else waitStreaming(node, startTimeoutMs);
    },
    stop,
  };
}
