/**
 * End to end in a real systemd: pg-backup@ against a primary + standby with repmgrd running as a
 * real service, in the container: PostgreSQL 15 and restic 0.14 on Debian 12 (the dump through a
 * kernel pipe), PostgreSQL 17 with repmgr 5.5 and restic 0.18 on Debian 13 (restic runs the dump).
 * A run pauses replay and stops repmgrd, and leaves both as they were; a run whose main process is
 * SIGKILLed is undone by ExecStopPost= (pg-cleanup). The profile backs up the database only: it
 * gets no file-backup timer.
 */
import { Container, PROJECT_IN_CONTAINER, waitFor } from './harness/container.js';
import { RELEASE_MATRIX } from './harness/rootfs.js';
import { expectSucceeded, journalShowing, settledState, startUnit } from './harness/units.js';

const UNIT = 'pg-backup@db.service';

describe.each(RELEASE_MATRIX)('%s', (_name, release) => {
  let container: Container;

  function standbySql(sql: string): string {
    return container.psql(5433, sql);
  }

  function replayState(): string {
    return standbySql('SELECT pg_get_wal_replay_pause_state()');
  }

  function repmgrdState(): string {
    return container.run(['systemctl', 'is-active', 'repmgrd'], { allowFailure: true }).stdout.trim();
  }

  /** Until repmgrd's current process monitors its node: it exits at once when it cannot connect. */
  async function repmgrdMonitoring(): Promise<void> {
    await waitFor(
      'repmgrd to monitor the standby',
      () => {
        const pid = container.unitProperty('repmgrd', 'MainPID');
        const journal = container.run(['journalctl', '--no-pager', '-o', 'cat', `_PID=${pid}`], { allowFailure: true });
        return pid !== '0' && journal.stdout.includes('starting monitoring of node') ? true : undefined;
      },
      60_000,
    );
  }

  function dumpSnapshots(): Array<{ id: string; tags: string[] }> {
    return JSON.parse(
      container.run([
        'restic-systemd',
        'exec',
        'db',
        '--',
        'restic',
        '--no-lock',
        'snapshots',
        '--json',
        '--tag',
        'job:pg-backup',
      ]).stdout,
    );
  }

  beforeAll(async () => {
    container = await Container.boot(release);
    container.run(['sh', `${PROJECT_IN_CONTAINER}/test/e2e/container/pg-cluster.sh`]);
    container.writeProfile(
      'db',
      [
        'RESTIC_REPOSITORY=/var/lib/restic/db',
        'PGHOST=/run/postgresql',
        'PGPORT=5433',
        'PGUSER=postgres',
        'PG_OS_USER=postgres',
      ],
      'e2e-password-db',
    );
    container.run(['restic-systemd', 'init', 'db']);
    container.run(['restic-systemd', 'install', 'db']);
  }, 600_000);

  afterAll(async () => {
    await container?.stop();
  }, 60_000);

  test(
    'pg-backup@db.service dumps the paused standby into restic, then replay resumes and repmgrd runs again',
    () =>
      container.scenario(async () => {
        expect(container.run(['systemctl', 'is-enabled', 'pg-backup@db.timer']).stdout.trim()).toBe('enabled');
        // A database-only profile: no hourly file backup of /media/db that could only fail.
        expect(
          container.run(['systemctl', 'is-enabled', 'restic@db.timer'], { allowFailure: true }).stdout.trim(),
        ).not.toBe('enabled');
        expect([replayState(), repmgrdState()]).toEqual(['not paused', 'active']);
        expectSucceeded(container, UNIT, startUnit(container, UNIT));
        // A healthy run's journal holds no warning (pg_dump's advice about repmgr's own table is known harmless).
        expect(container.run(['journalctl', '--no-pager', '-o', 'cat', '-u', UNIT]).stdout).not.toMatch(/warning/i);

        const [snapshot] = dumpSnapshots();
        expect(snapshot!.tags).toEqual(
          expect.arrayContaining([expect.stringMatching(/^lsn:/), expect.stringMatching(/^run:/)]),
        );
        // Per-database archives (the default format): the globals and each database's pg_dump archive.
        expect(snapshot!.tags).toEqual(expect.arrayContaining(['format:directory', 'database:app']));
        const listed = container.run(['restic-systemd', 'exec', 'db', '--', 'restic', 'ls', snapshot!.id]).stdout;
        expect(listed).toMatch(/\/db\.pg-dump\/databases\/app\/toc\.dat$/m);
        expect(listed).toMatch(/\/db\.pg-dump\/globals\.sql$/m);
        expect(container.run(['ls', '-A', '/var/lib/restic-systemd/spool']).stdout).toBe('');

        // The job stopped repmgrd for the dump and started it again.
        const repmgrdJournal = container.run(['journalctl', '--no-pager', '-o', 'cat', '-u', 'repmgrd']).stdout;
        expect(repmgrdJournal).toMatch(/Stopped repmgrd\.service[\s\S]*Started repmgrd\.service/);
        expect([replayState(), repmgrdState()]).toEqual(['not paused', 'active']);
        // Replay really goes on: a row written on the primary reaches the standby.
        container.run([
          'runuser',
          '-u',
          'postgres',
          '--',
          'psql',
          '-X',
          '-q',
          '-h',
          '/run/postgresql',
          '-p',
          '5432',
          '-d',
          'app',
          '-c',
          "INSERT INTO items VALUES (5001, 'after the backup')",
        ]);
        await waitFor('the new row on the standby', () =>
          standbySql("SELECT count(*) FROM pg_database WHERE datname = 'app'") === '1' &&
          container.psql(5433, 'SELECT label FROM items WHERE id = 5001', { database: 'app' }) === 'after the backup'
            ? true
            : undefined,
        );
      }),
    120_000,
  );

  test(
    'repmgrd found failed: the run says automatic failover is off, leaves it alone, and the dump still succeeds',
    () =>
      container.scenario(async () => {
        container.run(['systemctl', 'kill', '--signal=SIGKILL', 'repmgrd']);
        await waitFor('repmgrd to be failed', () => (repmgrdState() === 'failed' ? true : undefined));
        try {
          expectSucceeded(container, UNIT, startUnit(container, UNIT));
          await journalShowing(container, UNIT, [
            'repmgrd has failed: automatic failover is off on this standby until it runs again',
          ]);
          expect(repmgrdState()).toBe('failed');
        } finally {
          container.run(['systemctl', 'reset-failed', 'repmgrd']);
          container.run(['systemctl', 'start', 'repmgrd']);
        }
        expect(repmgrdState()).toBe('active');
      }),
    120_000,
  );

  test(
    'repmgrd exits at once when the job starts it again (its node or upstream not answering): the run starts it ' +
      'again until it stays',
    () =>
      container.scenario(async () => {
        const flag = '/var/lib/postgresql/repmgrd-fails-once';
        const dropIn = '/etc/systemd/system/repmgrd.service.d/fails-once.conf';
        const repmgrd = `/usr/lib/postgresql/${release.postgresMajor}/bin/repmgrd -f /etc/repmgr/standby.conf`;
        container.writeFile(
          dropIn,
          `[Service]\nExecStart=\nExecStart=/bin/sh -c 'if [ -e ${flag} ]; then rm -f ${flag}; exit 6; fi; ` +
            `exec ${repmgrd} --daemonize=false'\n`,
        );
        try {
          container.run(['systemctl', 'daemon-reload']);
          container.run(['systemctl', 'restart', 'repmgrd']);
          await repmgrdMonitoring();
          container.run(['install', '-o', 'postgres', '/dev/null', flag]);
          expectSucceeded(container, UNIT, startUnit(container, UNIT));
          await journalShowing(container, UNIT, ['repmgrd exited right after it was started (failed)']);
          expect(container.run(['test', '-e', flag], { allowFailure: true }).exitCode).toBe(1);
          expect(repmgrdState()).toBe('active');
        } finally {
          container.run(['rm', '-f', dropIn, flag]);
          container.run(['systemctl', 'daemon-reload']);
          container.run(['systemctl', 'reset-failed', 'repmgrd']);
          container.run(['systemctl', 'restart', 'repmgrd']);
        }
        expect(repmgrdState()).toBe('active');
      }),
    120_000,
  );

  test(
    'pg-verify@db.service restores the latest dump into a scratch cluster inside its sandbox',
    () =>
      container.scenario(async () => {
        expectSucceeded(container, 'pg-verify@db.service', startUnit(container, 'pg-verify@db.service'));
        // Into a scratch cluster of the dumped server's major version, found without PG_BINDIR.
        await journalShowing(container, 'pg-verify@db.service', [
          new RegExp(
            `restores into PostgreSQL ${release.postgresMajor} in [\\d.]+ s: \\d+ databases, \\d+ tables, \\d+ rows`,
          ),
        ]);
      }),
    120_000,
  );

  test(
    'the main process killed with SIGKILL mid-dump: ExecStopPost resumes replay, starts repmgrd, and no ' +
      'snapshot of the run remains',
    () =>
      container.scenario(async () => {
        const before = dumpSnapshots().map((snapshot) => snapshot.id);
        // Fault injection: a pg_dumpall that stops half-way through the dump and hangs there.
        container.writeFile(
          '/usr/local/bin/e2e-hanging-pg_dumpall',
          '#!/bin/sh\n/usr/bin/pg_dumpall "$@" | head -c 100000\nexec sleep 601\n',
          0o755,
        );
        container.writeFile(
          `/etc/systemd/system/${UNIT}.d/zz-e2e.conf`,
          '[Service]\nEnvironment=PG_DUMPALL_BIN=/usr/local/bin/e2e-hanging-pg_dumpall\n',
        );
        container.run(['systemctl', 'daemon-reload']);
        container.run(['systemctl', 'start', '--no-block', UNIT]);

        await waitFor('the run to hang mid-dump with replay paused and repmgrd stopped', () =>
          container.run(['pgrep', '-f', 'sleep 601'], { allowFailure: true }).exitCode === 0 &&
          replayState() === 'paused' &&
          repmgrdState() !== 'active'
            ? true
            : undefined,
        );
        expect(container.unitProperty(UNIT, 'ActiveState')).toBe('activating');
        container.run(['systemctl', 'kill', '--kill-whom=main', '--signal=KILL', UNIT]);
        await waitFor(`${UNIT} to end`, () => settledState(container, UNIT));

        expect(container.unitProperty(UNIT, 'Result')).toBe('signal');
        await journalShowing(container, UNIT, ['did not finish (SERVICE_RESULT=signal): undoing what it changed']);
        expect([replayState(), repmgrdState()]).toEqual(['not paused', 'active']);
        expect(dumpSnapshots().map((snapshot) => snapshot.id)).toEqual(before);
        expect(container.run(['pgrep', '-f', 'sleep 601'], { allowFailure: true }).stdout).toBe('');

        container.run(['rm', `/etc/systemd/system/${UNIT}.d/zz-e2e.conf`]);
        container.run(['systemctl', 'daemon-reload']);
        // The next run is a normal one: the killed restic's stale lock is no obstacle.
        expectSucceeded(container, UNIT, startUnit(container, UNIT));
        expect(dumpSnapshots()).toHaveLength(before.length + 1);
      }),
    180_000,
  );
  test(
    "the timer takes the dumps; the primary's data folder is lost; a fresh cluster on a new machine gets every " +
      'database back from the repository with restic-systemd alone',
    () =>
      container.scenario(async () => {
        // The timer: a dump every 20 s.
        container.writeProfile(
          'db',
          [
            'RESTIC_REPOSITORY=/var/lib/restic/db',
            'PGHOST=/run/postgresql',
            'PGPORT=5433',
            'PGUSER=postgres',
            'PG_OS_USER=postgres',
            'PG_BACKUP_SCHEDULE=*:*:0/20',
            'PG_BACKUP_RANDOMIZED_DELAY=0',
          ],
          'e2e-password-db',
        );
        container.run(['restic-systemd', 'install', 'db']);
        const primarySql = (sql: string) => container.psql(5432, sql, { database: 'app' });
        primarySql("INSERT INTO items VALUES (9001, 'before the disaster')");
        const rows = primarySql('SELECT count(*) FROM items');
        const before = dumpSnapshots().length;
        await waitFor('a dump the timer took', () => (dumpSnapshots().length > before ? true : undefined), 120_000);
        // No further run: on a loaded machine a run can last most of the timer's 20 s.
        container.run(['systemctl', 'stop', 'pg-backup@db.timer']);
        await waitFor(`${UNIT} to settle`, () => settledState(container, UNIT), 120_000);
        expectSucceeded(container, UNIT);

        // The disaster: the primary is gone, its data folder with it.
        container.run(['systemctl', 'stop', 'e2e-postgres@primary']);
        container.run(['rm', '-rf', '/var/lib/postgresql/e2e/primary']);
        const host = container.run(['hostname']).stdout.trim();
        const repository = container.sh('tar -C /var/lib/restic -cz db | base64 -w0').stdout;

        // A new machine with only the repository, its password, and a fresh cluster.
        const fresh = await Container.boot(release);
        try {
          fresh.run(['sh', '-euc', 'mkdir -p /var/lib/restic && base64 -d | tar -C /var/lib/restic -xz'], {
            input: repository,
          });
          fresh.writeProfile('db', ['RESTIC_REPOSITORY=/var/lib/restic/db', 'PG_OS_USER=postgres'], 'e2e-password-db');
          fresh.sh(`BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
            install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/fresh
            install -d -o postgres -g postgres /run/postgresql
            runuser -u postgres -- $BIN/initdb -D /var/lib/postgresql/fresh -U postgres -A peer \\
              --no-instructions >/dev/null
            runuser -u postgres -- $BIN/pg_ctl -D /var/lib/postgresql/fresh -l /var/lib/postgresql/fresh.log \\
              -o "-p 5432 -k /run/postgresql -c listen_addresses=''" -w start >/dev/null`);
          const restored = fresh.run([
            'restic-systemd',
            'restore',
            'db',
            '--host',
            host,
            '--all-databases',
            '--replace',
            '--to',
            'host=/run/postgresql port=5432',
          ]);
          expect(restored.stdout).toMatch(/restored app: 1 tables/);
          const count = fresh
            .run([
              'runuser',
              '-u',
              'postgres',
              '--',
              'psql',
              '-X',
              '-At',
              '-h',
              '/run/postgresql',
              '-d',
              'app',
              '-c',
              'SELECT count(*) FROM items',
            ])
            .stdout.trim();
          expect(count).toBe(rows);
        } finally {
          await fresh.stop();
        }
      }),
    600_000,
  );
});
