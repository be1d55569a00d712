/**
 * What a backup of a Patroni replica has to deal with, on a real Patroni 3 cluster (Debian's patroni, etcd-server
 * and the host release's PostgreSQL, built by test/helpers/patroni-cluster.ts on loopback ports 25770-25775, the
 * HA loop every 2 s): the replica streams; Patroni's HA loop resumes a replay paused by hand (PostgreSQL 14 and
 * newer) within a cycle or two; in maintenance mode (patronictl pause) it leaves a paused replay alone; how
 * maintenance mode shows in `patronictl show-config` and in the REST API. And the helper itself: switchover,
 * Patroni stopped in maintenance mode, a start that fails midway.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PG_MAJOR } from '../helpers/pg-cluster.js';
import { startPatroniCluster, type PatroniCluster } from '../helpers/patroni-cluster.js';

// Not the helper's default ports (25760-25765, patroni-job.test.ts'): the two files may run at the same time.
const BASE_PORT = 25770;

const LOOP_WAIT_MS = 2000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const RESUMED_BY_PATRONI = 'Resuming paused WAL replay for PostgreSQL 14+';

/** How often Patroni's log of a member says it resumed a paused replay. */
function resumesLogged(cluster: PatroniCluster, node: 'node1' | 'node2'): number {
  return fs.readFileSync(path.join(cluster.base, `${node}.patroni.log`), 'utf8').split(RESUMED_BY_PATRONI).length - 1;
}

/** Poll the replay's pause state until it is `state`, for at most `timeoutMs`; returns how long it took. */
async function untilPauseState(cluster: PatroniCluster, port: number, state: string, timeoutMs: number) {
  const started = Date.now();
  for (;;) {
    const now = cluster.pauseState(port);
    if (now === state) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(`replay on ${port} still '${now}' after ${timeoutMs / 1000} s, waiting for '${state}'`);
    await sleep(100);
  }
}

/** Poll `done` every 100 ms for at most `timeoutMs`; the caller's expect then says what did not happen. */
async function until(done: () => boolean, timeoutMs: number) {
  const started = Date.now();
  while (!done() && Date.now() - started < timeoutMs) await sleep(100);
}

describe('a real Patroni cluster (leader + streaming replica on etcd)', () => {
  let cluster: PatroniCluster;
  beforeAll(() => {
    cluster = startPatroniCluster({ basePort: BASE_PORT });
  }, 240_000);
  afterAll(() => cluster?.stop(), 90_000);

  /** Leave the cluster as found: replay resumed, maintenance mode off. */
  function restore() {
    cluster.sql(cluster.replicaPort, 'SELECT pg_wal_replay_resume()');
    if (cluster.maintenance()) cluster.patronictl(['resume', '--wait']);
  }

  test('the replica is in recovery and streams from the leader', () => {
    expect(PG_MAJOR).toBeGreaterThanOrEqual(14);
    expect(cluster.leaderNode()).toBe('node1');
    expect(cluster.maintenance()).toBe(false);
    expect(cluster.sql(cluster.leaderPort, 'SELECT pg_is_in_recovery()')).toBe('f');
    expect(cluster.sql(cluster.replicaPort, 'SELECT pg_is_in_recovery()')).toBe('t');
    expect(cluster.sql(cluster.replicaPort, 'SELECT status, sender_port FROM pg_stat_wal_receiver')).toBe(
      `streaming|${cluster.leaderPort}`,
    );
    expect(cluster.sql(cluster.leaderPort, 'SELECT application_name, state FROM pg_stat_replication')).toBe(
      'node2|streaming',
    );
    expect(cluster.pauseState(cluster.replicaPort)).toBe('not paused');
    expect(cluster.replicaConfig).toBe(cluster.configOf('node2'));
    // The configuration: root's, readable by the postgres group (the daemon), no one else.
    const stat = fs.statSync(cluster.replicaConfig);
    expect([stat.uid, stat.mode & 0o777]).toEqual([0, 0o640]);
  });

  test("Patroni's HA loop resumes a replay paused by hand within a few cycles (PostgreSQL 14+)", async () => {
    try {
      const before = resumesLogged(cluster, 'node2');
      // The pause and its state in one statement: Patroni's next cycle may come between two psql calls (CI saw a
      // 'not paused' read by a second call on a loaded machine).
      const state = cluster.sql(
        cluster.replicaPort,
        'SELECT pg_get_wal_replay_pause_state() FROM (SELECT pg_wal_replay_pause()) AS pause',
      );
      expect(state).toMatch(/^(paused|pause requested)$/);
      const took = await untilPauseState(cluster, cluster.replicaPort, 'not paused', 20_000);
      // Measured: 1.3-1.9 s, the next HA cycle (loop_wait 2 s).
      expect(took).toBeLessThan(3 * LOOP_WAIT_MS + 1000);
      // It was Patroni (the replica's member), not anything else; its log line may trail the resume a little.
      await until(() => resumesLogged(cluster, 'node2') > before, 5000);
      expect(resumesLogged(cluster, 'node2')).toBe(before + 1);
    } finally {
      restore();
    }
  }, 60_000);

  test(
    'in maintenance mode (patronictl pause --wait) a replay paused by hand holds for 4 HA cycles; resumed by ' +
      'hand, then patronictl resume --wait ends maintenance mode',
    async () => {
      try {
        expect(cluster.patronictl(['pause', '--wait'])).toContain('Success: cluster management is paused');
        expect(cluster.maintenance()).toBe(true);
        const before = resumesLogged(cluster, 'node2');
        cluster.sql(cluster.replicaPort, 'SELECT pg_wal_replay_pause()');
        await untilPauseState(cluster, cluster.replicaPort, 'paused', 5000);
        const samples: string[] = [];
        for (let sample = 0; sample < 16; sample++) {
          await sleep(500);
          samples.push(cluster.pauseState(cluster.replicaPort));
        }
        expect(new Set(samples)).toEqual(new Set(['paused']));
        expect(resumesLogged(cluster, 'node2')).toBe(before);
        // The REST API shows the replay's pause too (xlog.paused), queried from PostgreSQL.
        const replica = cluster.rest(cluster.replicaRestPort, '/patroni').body as { xlog: { paused: boolean } };
        expect(replica.xlog.paused).toBe(true);

        cluster.sql(cluster.replicaPort, 'SELECT pg_wal_replay_resume()');
        expect(cluster.pauseState(cluster.replicaPort)).toBe('not paused');
        expect(cluster.patronictl(['resume', '--wait'])).toContain('Success: cluster management is resumed');
        expect(cluster.maintenance()).toBe(false);
      } finally {
        restore();
      }
    },
    60_000,
  );

  test(
    'maintenance mode shows as a top-level "pause: true" in patronictl show-config and as "pause": true in ' +
      "each member's GET /patroni (absent, not false, outside it)",
    () => {
      const showConfig = () => cluster.patronictl(['show-config']);
      const restPause = (port: number) =>
        (cluster.rest(port, '/patroni').body as { pause?: boolean; state?: string }).pause;
      try {
        expect(showConfig()).not.toMatch(/^pause:/m);
        expect(showConfig()).toMatch(/^loop_wait: 2$/m);
        for (const port of [cluster.leaderRestPort, cluster.replicaRestPort]) expect(restPause(port)).toBe(undefined);

        cluster.patronictl(['pause', '--wait']);
        // `pause --wait` returns once every member has seen it: no further waiting.
        expect(showConfig()).toMatch(/^pause: true$/m);
        for (const port of [cluster.leaderRestPort, cluster.replicaRestPort]) expect(restPause(port)).toBe(true);
        // The DCS configuration through the REST API as well.
        expect((cluster.rest(cluster.replicaRestPort, '/config').body as { pause?: boolean }).pause).toBe(true);
        expect(cluster.patronictl(['list'])).toContain('Maintenance mode: on');
        // A second pause is refused: exit 1, "Error: Cluster is already paused" on stderr.
        expect(() => cluster.patronictl(['pause'])).toThrow(/Cluster is already paused/);

        cluster.patronictl(['resume', '--wait']);
        expect(showConfig()).not.toMatch(/^pause:/m);
        for (const port of [cluster.leaderRestPort, cluster.replicaRestPort]) expect(restPause(port)).toBe(undefined);
        expect(() => cluster.patronictl(['resume'])).toThrow(/Cluster is not paused/);
      } finally {
        restore();
      }
    },
    60_000,
  );

  test(
    "the helper: a switchover, and back in maintenance mode with the replica's replay paused (promotion ends the " +
      'pause); Patroni stopped in maintenance mode leaves its PostgreSQL running, and started again takes it over',
    () => {
      cluster.switchover();
      expect(cluster.leaderNode()).toBe('node2');
      expect(cluster.sql(cluster.leaderPort, 'SELECT pg_is_in_recovery()')).toBe('t');
      try {
        cluster.patronictl(['pause', '--wait']);
        cluster.sql(cluster.leaderPort, 'SELECT pg_wal_replay_pause()');
        cluster.switchover();
        expect(cluster.leaderNode()).toBe('node1');
        expect(cluster.sql(cluster.leaderPort, 'SELECT pg_is_in_recovery()')).toBe('f');
        expect(cluster.sql(cluster.replicaPort, 'SELECT status FROM pg_stat_wal_receiver')).toBe('streaming');
        expect(cluster.maintenance()).toBe(true);

        cluster.stopPatroni('node2');
        expect(cluster.sql(cluster.replicaPort, 'SELECT pg_is_in_recovery()')).toBe('t');
        cluster.startPatroni('node2');
        expect(cluster.patronictl(['list'])).toMatch(/node2 .*\| Replica \| (running|streaming) /);
      } finally {
        restore();
      }
    },
    150_000,
  );
});

describe('the Patroni cluster helper', () => {
  test('a start that fails midway (node1 still bootstrapping) stops what it started and frees the ports', () => {
    // The same ports as the cluster above, stopped by now: its teardown freed them.
    let failed: Error | undefined;
    try {
      startPatroniCluster({ basePort: BASE_PORT, startTimeoutMs: 1000 }).stop();
    } catch (error) {
      failed = error as Error;
    }
    expect(failed?.message).toMatch(/^timed out after 1 s waiting for node1 to run as the leader/);
    const base = /(\/tmp\/restic-systemd-patroni-[^/]+)\/etcd\.log:/.exec(failed!.message)?.[1];
    expect(base).toBeDefined();
    expect(failed!.message).not.toContain('(and then');
    expect(fs.existsSync(base!)).toBe(false);
    const listening = spawnSync('ss', ['-Hltn'], { encoding: 'utf8' }).stdout;
    for (let port = BASE_PORT; port < BASE_PORT + 6; port++) expect(listening).not.toMatch(new RegExp(`:${port}\\s`));
    expect(spawnSync('pgrep', ['-f', base!], { encoding: 'utf8' }).stdout).toBe('');
  }, 90_000);
});
