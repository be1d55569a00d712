/**
 * End to end in a real systemd: pg-backup@ on the replica of a Patroni cluster, with Debian's own
 * etcd.service and patroni@.service (test/e2e/container/patroni-cluster.sh): Patroni 3.0.2, etcd 3.4
 * and PostgreSQL 15 on Debian 12; Patroni 4.0, etcd 3.5 and PostgreSQL 17 on Debian 13; Patroni 4.1,
 * etcd 3.5 and PostgreSQL 18 from Debian's development suite on Debian 13. Patroni's HA loop resumes a
 * paused replay unless the cluster is in maintenance mode: with PG_HA_MANAGER=patroni the replay is
 * sampled paused for the whole dump, and a run killed mid-dump is undone by ExecStopPost=. On
 * PostgreSQL 18, the restore drill, and restores of one database from each dump format, too.
 */
import { Container, waitFor } from './harness/container.js';
import { RELEASE_MATRIX } from './harness/rootfs.js';
import { DEVELOPMENT_RELEASE, type DebianRelease } from '../helpers/global-setup.js';
import { expectSucceeded, journalShowing, settledState, startUnit } from './harness/units.js';

const UNIT = 'pg-backup@db.service';
const MATRIX: ReadonlyArray<[string, DebianRelease]> = [
  ...RELEASE_MATRIX,
  [DEVELOPMENT_RELEASE.name, DEVELOPMENT_RELEASE],
];
const PROFILE = [
  'RESTIC_REPOSITORY=/var/lib/restic/db',
  'PGHOST=/run/postgresql',
  'PGPORT=5433',
  'PGUSER=postgres',
  'PG_OS_USER=postgres',
  'PG_HA_MANAGER=patroni',
  'PG_PATRONI_CONFIG=/etc/patroni/node2.yml',
];

describe.each(MATRIX)('%s', (_name, release) => {
  let container: Container;

  const psql = (port: number, sql: string, database = 'postgres') => container.psql(port, sql, { database });
  const replayState = () => psql(5433, 'SELECT pg_get_wal_replay_pause_state()');
  const maintenance = () =>
    /^pause:\s*true\s*$/m.test(container.run(['patronictl', '-c', '/etc/patroni/node2.yml', 'show-config']).stdout);
  const patroniResumes = () =>
    container
      .run(['journalctl', '--no-pager', '-o', 'cat', '-u', 'patroni@node2'])
      .stdout.split('\n')
      .filter((line) => line.includes('Resuming paused WAL replay')).length;
  const dumpSnapshots = (profile = 'db'): Array<{ id: string }> =>
    JSON.parse(
      container.run([
        'restic-systemd',
        'exec',
        profile,
        '--',
        'restic',
        '--no-lock',
        'snapshots',
        '--json',
        '--tag',
        'job:pg-backup',
      ]).stdout,
    );
  /** The dump's programs slowed down or hung (fault injection), through the unit's environment. */
  const dumpWrapper = (body: string) => {
    for (const tool of ['pg_dump', 'pg_dumpall'])
      container.writeFile(`/usr/local/bin/e2e-${tool}`, `#!/bin/sh\n${body.replaceAll('TOOL', tool)}\n`, 0o755);
    container.writeFile(
      `/etc/systemd/system/${UNIT}.d/zz-e2e.conf`,
      '[Service]\nEnvironment=PG_DUMP_BIN=/usr/local/bin/e2e-pg_dump PG_DUMPALL_BIN=/usr/local/bin/e2e-pg_dumpall\n',
    );
    container.run(['systemctl', 'daemon-reload']);
  };
  const noWrapper = () => {
    container.run(['rm', '-f', `/etc/systemd/system/${UNIT}.d/zz-e2e.conf`]);
    container.run(['systemctl', 'daemon-reload']);
  };

  beforeAll(async () => {
    container = await Container.boot(release);
    container.run(['sh', '/opt/restic-systemd/test/e2e/container/patroni-cluster.sh']);
    container.writeProfile('db', PROFILE, 'e2e-password-db');
    container.run(['restic-systemd', 'init', 'db']);
    const installed = container.run(['restic-systemd', 'install', 'db']);
    // install probes as validate does: patronictl reads the cluster, and nothing is wrong.
    expect(installed.stdout + installed.stderr).not.toMatch(/will fail|Patroni/);
  }, 600_000);

  afterAll(async () => {
    await container?.stop();
  }, 60_000);

  test(
    "while Patroni's HA loop runs, replay stays paused for the whole dump (sampled); maintenance mode is off after",
    () =>
      container.scenario(async () => {
        expect([replayState(), maintenance()]).toEqual(['not paused', false]);
        const resumesBefore = patroniResumes();
        dumpWrapper('sleep 3\nexec /usr/bin/TOOL "$@"');
        container.run(['systemctl', 'start', '--no-block', UNIT]);
        await waitFor('the run to pause replay', () => (replayState() === 'paused' ? true : undefined));
        // Maintenance mode is on while replay is paused (asked once: patronictl takes half a second).
        const maintenanceSeen = maintenance();
        const samples: Array<{ at: number; state: string }> = [];
        while (!settledState(container, UNIT)) samples.push({ at: Date.now(), state: replayState() });
        expectSucceeded(container, UNIT);
        noWrapper();
        // Paused in every sample over at least 4 s of the dump (each of its programs waits 3 s), until
        // the job resumed it itself; on a loaded machine the samples come slower: their span counts.
        const states = samples.map((sample) => sample.state);
        const resumed = states.indexOf('not paused') === -1 ? states.length : states.indexOf('not paused');
        const paused = samples.slice(0, resumed);
        expect(paused.length).toBeGreaterThan(3);
        expect(paused.at(-1)!.at - paused[0]!.at).toBeGreaterThan(3500);
        expect(paused.filter((sample) => sample.state !== 'paused')).toEqual([]);
        expect(states.slice(resumed).filter((state) => state === 'paused')).toEqual([]);
        expect(maintenanceSeen).toBe(true);
        expect(patroniResumes()).toBe(resumesBefore);
        await journalShowing(container, UNIT, [
          "Patroni's maintenance mode switched on",
          "Patroni's maintenance mode switched off",
        ]);
        expect([replayState(), maintenance()]).toEqual(['not paused', false]);
        expect(dumpSnapshots()).toHaveLength(1);
      }),
    180_000,
  );

  test(
    'the main process killed with SIGKILL mid-dump: the pause holds, then ExecStopPost resumes replay and switches ' +
      'maintenance mode off; no snapshot of the run remains',
    () =>
      container.scenario(async () => {
        const before = dumpSnapshots().map((snapshot) => snapshot.id);
        dumpWrapper('exec sleep 601');
        container.run(['systemctl', 'start', '--no-block', UNIT]);
        await waitFor('the run to hang mid-dump with replay paused in maintenance mode', () =>
          container.run(['pgrep', '-f', 'sleep 601'], { allowFailure: true }).exitCode === 0 &&
          replayState() === 'paused' &&
          maintenance()
            ? true
            : undefined,
        );
        container.run(['systemctl', 'kill', '--kill-whom=main', '--signal=KILL', UNIT]);
        await waitFor(`${UNIT} to end`, () => settledState(container, UNIT));
        noWrapper();
        expect(container.unitProperty(UNIT, 'Result')).toBe('signal');
        await journalShowing(container, UNIT, ['did not finish (SERVICE_RESULT=signal)']);
        expect([replayState(), maintenance()]).toEqual(['not paused', false]);
        expect(dumpSnapshots().map((snapshot) => snapshot.id)).toEqual(before);
      }),
    180_000,
  );

  if (release.developmentPackages) {
    test(
      `PostgreSQL ${release.postgresMajor}: the restore drill, and one database back from each dump format`,
      () =>
        container.scenario(async () => {
          expectSucceeded(container, 'pg-verify@db.service', startUnit(container, 'pg-verify@db.service'));
          await journalShowing(container, 'pg-verify@db.service', [
            new RegExp(`restores into PostgreSQL ${release.postgresMajor} in [\\d.]+ s: \\d+ databases`),
          ]);
          const rows = psql(5432, 'SELECT count(*) FROM items', 'app');
          const restore = (profile: string, as: string) =>
            container.run([
              'restic-systemd',
              'restore',
              profile,
              '--database',
              'app',
              '--as',
              as,
              '--to',
              'host=/run/postgresql port=5432',
            ]);
          // The per-database archives (the default format).
          expect(restore('db', 'app_archive').stdout).toMatch(/restored app/);
          expect(psql(5432, 'SELECT count(*) FROM items', 'app_archive')).toBe(rows);
          // The single pg_dumpall file: pg_dumpall 18's \restrict lines around each database.
          container.writeProfile(
            'dbsql',
            [
              ...PROFILE.map((line) => line.replace('/var/lib/restic/db', '/var/lib/restic/dbsql')),
              'PG_DUMP_FORMAT=sql',
            ],
            'e2e-password-dbsql',
          );
          container.run(['restic-systemd', 'init', 'dbsql']);
          container.run(['restic-systemd', 'install', 'dbsql']);
          expectSucceeded(container, 'pg-backup@dbsql.service', startUnit(container, 'pg-backup@dbsql.service'));
          expect(restore('dbsql', 'app_sql').stdout).toMatch(/restored app/);
          expect(psql(5432, 'SELECT count(*) FROM items', 'app_sql')).toBe(rows);
          expect([replayState(), maintenance()]).toEqual(['not paused', false]);
        }),
      300_000,
    );
  }
});
