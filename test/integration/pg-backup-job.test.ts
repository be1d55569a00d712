/**
 * The pg-backup@ job against a real PostgreSQL primary + standby managed by repmgr (the host
 * release's major), real pg_dumpall and real restic of every supported release: restic 0.14 reads
 * the dump from a kernel pipe, 0.17 and newer run it themselves (--stdin-from-command). Faults
 * are real (a primary, a paused replay, a wrong password, a promotion, a restart, SIGKILL); only a
 * wrapper around pg_dumpall injects failure or delay.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT, runCli, runCliWithEnvironment, type CliResult } from '../helpers/cli.js';
import { unitEnvironment } from '../helpers/systemd-environment.js';
import {
  PG_BIN,
  newScratchFoldersLeft,
  scratchFolders,
  standbyProfileLines,
  startCluster,
  startNode,
  type PgCluster,
} from '../helpers/pg-cluster.js';
import type { ResticRelease } from '../helpers/global-setup.js';
import { restServer } from '../helpers/remote-servers.js';
import { repositoryLockFile } from '../../src/locks/repository-lock.js';
import { loadProfile } from '../../src/profile/load.js';
import { testContext } from '../helpers/context.js';
import { THIS_HOST, createRepository, slowRestic } from '../helpers/restic.js';
import { RESTIC_MATRIX, resticAtLeast } from '../helpers/restic-versions.js';
import { removeTempRoots, snapshotTree, tempRoot, writeProfile } from '../helpers/temp-root.js';

const PASSWORD = 'pg-repository-password-91c3';

interface DbSetup {
  root: string;
  release: ResticRelease;
  cli: (...args: string[]) => CliResult;
  /** restic of this release with the profile's environment. */
  restic: (...args: string[]) => CliResult;
  snapshots: () => Array<{ short_id: string; id: string; tags?: string[] }>;
  restoreInto: (scratchPort: number) => { sql: (database: string, sql: string) => string; stop: () => void };
}

/** A profile "db" pointing libpq at a port of the cluster, with a repository, through real restic. */
function dbSetup(
  cluster: PgCluster,
  release: ResticRelease,
  options: { port?: number; extra?: string; dumpWrapper?: string; repository?: string } = {},
): DbSetup {
  const root = tempRoot();
  fs.writeFileSync(path.join(root, 'etc/restic/db.password'), `${PASSWORD}\n`, { mode: 0o600 });
  const lines = standbyProfileLines(cluster, options.port);
  writeProfile(
    root,
    'db',
    [
      ...(options.repository
        ? lines.map((line) =>
            line.startsWith('RESTIC_REPOSITORY=') ? `RESTIC_REPOSITORY=${options.repository}` : line,
          )
        : lines),
      `PG_REPMGRD_STOP_COMMAND=${cluster.repmgrd.stopCommand}`,
      `PG_REPMGRD_START_COMMAND=${cluster.repmgrd.startCommand}`,
      // The single-file SQL format (the per-database archives: pg-archive.test.ts).
      'PG_DUMP_FORMAT=sql',
      options.extra ?? '',
    ].join('\n') + '\n',
  );
  const env = { RESTIC_BIN: release.binary, ...(options.dumpWrapper ? { PG_DUMPALL_BIN: options.dumpWrapper } : {}) };
  const cli = (...args: string[]) => runCli(['--root', root, ...args], env);
  if (options.repository) {
    const init = cli('init', 'db');
    if (init.exitCode !== 0) throw new Error(`init failed: ${init.stderr}`);
  } else createRepository(release, path.join(root, 'srv/repo'), PASSWORD);
  return {
    root,
    release,
    cli,
    restic: (...args: string[]) => runCli(['--root', root, 'exec', 'db', '--', release.binary, ...args]),
    snapshots: () =>
      JSON.parse(runCli(['--root', root, 'exec', 'db', '--', release.binary, 'snapshots', '--json']).stdout),
    restoreInto: (scratchPort) => restoreLatest(root, release, cluster, scratchPort),
  };
}

/** Restore the latest dump into a scratch cluster whose bootstrap superuser is not postgres. */
function restoreLatest(root: string, release: ResticRelease, cluster: PgCluster, port: number) {
  const data = path.join(cluster.base, `scratch-${port}`);
  const run = (args: string[]) => {
    const result = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  run([`${PG_BIN}/initdb`, '-D', data, '-U', 'restore_verifier', '-A', 'trust', '--no-instructions']);
  fs.appendFileSync(
    `${data}/postgresql.conf`,
    `port = ${port}\nlisten_addresses = ''\nunix_socket_directories = '${cluster.base}'\nfsync = off\n`,
  );
  startNode(data, `${data}.log`);
  const dumpFile = path.join(cluster.base, `restore-${port}.sql`);
  const dumped = runCli([
    '--root',
    root,
    'exec',
    'db',
    '--',
    'sh',
    '-c',
    `'${release.binary}' dump latest /postgres-${THIS_HOST}.sql > ${dumpFile}`,
  ]);
  if (dumped.exitCode !== 0) throw new Error(`restic dump failed: ${dumped.stderr}`);
  fs.chmodSync(dumpFile, 0o644);
  run([
    `${PG_BIN}/psql`,
    '-X',
    '-q',
    '-h',
    cluster.base,
    '-p',
    String(port),
    '-U',
    'restore_verifier',
    '-d',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-f',
    dumpFile,
  ]);
  return {
    sql: (database: string, sql: string) =>
      run([
        `${PG_BIN}/psql`,
        '-X',
        '-A',
        '-t',
        '-q',
        '-h',
        cluster.base,
        '-p',
        String(port),
        '-U',
        'restore_verifier',
        '-d',
        database,
        '-c',
        sql,
      ]).trim(),
    stop: () => run([`${PG_BIN}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', 'stop']) && undefined,
  };
}

/** A pg_dumpall wrapper in the cluster folder (postgres runs it): waits, or fails half-way. */
function dumpWrapper(cluster: PgCluster, name: string, body: string): string {
  const file = path.join(cluster.base, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** Start `run pg-backup db` in the background with a dump wrapper; its exit is watched from the start. */
function startJob(setup: DbSetup, wrapper: string) {
  const job = spawn(
    process.execPath,
    [path.join(PROJECT, 'dist/cli.js'), '--root', setup.root, 'run', 'pg-backup', 'db'],
    { env: { ...process.env, RESTIC_BIN: setup.release.binary, PG_DUMPALL_BIN: wrapper } },
  );
  const exited = new Promise<number | null>((resolve) => job.on('exit', resolve));
  let stderr = '';
  job.stderr.on('data', (chunk) => (stderr += chunk));
  return { job, exited, stderr: () => stderr };
}

/** Wait until the standby's replay is paused (by the job under test). */
async function untilPaused(cluster: PgCluster): Promise<void> {
  for (let tries = 0; tries < 100 && replayState(cluster) !== 'paused'; tries++) await sleep(100);
}

const replayState = (cluster: PgCluster) => cluster.sql(cluster.standbyPort, 'SELECT pg_get_wal_replay_pause_state()');
const status = (root: string, job = 'pg-backup') =>
  JSON.parse(fs.readFileSync(path.join(root, 'var/lib/restic-systemd', `db.${job}.json`), 'utf8'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(removeTempRoots);

describe.each(RESTIC_MATRIX)('with restic %s', (_label, release) => {
  const once = release.suite === 'trixie';
  describe('on a healthy primary + standby', () => {
    let cluster: PgCluster;
    beforeAll(() => {
      cluster = startCluster(25632);
      cluster.sql(cluster.primaryPort, 'CREATE DATABASE db_a');
      cluster.sql(cluster.primaryPort, 'CREATE DATABASE db_b');
      for (const db of ['db_a', 'db_b'])
        cluster.sql(cluster.primaryPort, 'CREATE TABLE ticks (tick integer primary key)', db);
      cluster.sql(
        cluster.primaryPort,
        'CREATE TABLE big AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 300000) g',
        'db_a',
      );
      cluster.repmgrd.start();
    }, 120_000);
    afterAll(() => cluster?.stop());

    test(
      'as a new user would: the dump succeeds, replay is not paused afterwards, repmgrd is back, and it ' +
        'restores with every row',
      () => {
        const setup = dbSetup(cluster, release);
        const result = setup.cli('run', 'pg-backup', 'db');
        expect(result.stderr).toContain('WAL replay resumed');
        expect(result.exitCode).toBe(0);
        expect(replayState(cluster)).toBe('not paused');
        expect(cluster.repmgrd.running()).toBe(true);
        const [snapshot] = setup.snapshots();
        expect(snapshot!.tags).toEqual(
          expect.arrayContaining([
            'profile:db',
            'job:pg-backup',
            expect.stringMatching(/^lsn:[0-9A-F]+\/[0-9A-F]+$/),
            'timeline:1',
          ]),
        );
        expect(status(setup.root)).toMatchObject({ result: 'success', exitCode: 0, snapshotId: snapshot!.id });

        const scratch = setup.restoreInto(25640);
        try {
          expect(scratch.sql('db_a', 'SELECT count(*) FROM big')).toBe('300000');
          expect(scratch.sql('db_a', 'SELECT count(*) FROM ticks')).toBe(
            cluster.sql(cluster.standbyPort, 'SELECT count(*) FROM ticks', 'db_a'),
          );
        } finally {
          scratch.stop();
        }
      },
    );

    // restic-systemd's own behaviour, the same with every restic: once.
    if (once)
      test("pg-verify holds the repository lock while restic reads the dump (another job's prune waits)", async () => {
        const setup = dbSetup(cluster, release);
        expect(setup.cli('run', 'pg-backup', 'db').exitCode).toBe(0);
        const context = testContext(setup.root);
        const lockFile = repositoryLockFile(context.paths, await loadProfile('db', context.paths));
        const reading = path.join(setup.root, 'restic-dump-started');
        const restic = slowRestic(path.join(setup.root, 'restic-slow-dump'), release.binary, 'dump', reading, 2);
        const verify = spawn(
          process.execPath,
          [path.join(PROJECT, 'dist/cli.js'), '--root', setup.root, 'run', 'pg-verify', 'db'],
          {
            env: { ...process.env, RESTIC_BIN: restic },
            stdio: 'ignore',
          },
        );
        const exited = new Promise<number | null>((resolve) => verify.on('exit', resolve));
        for (let tries = 0; tries < 300 && !fs.existsSync(reading); tries++) await sleep(100);
        expect(fs.existsSync(reading)).toBe(true);
        expect(spawnSync('flock', ['--exclusive', '--nonblock', lockFile, 'true']).status).not.toBe(0);
        expect(await exited).toBe(0);
        expect(spawnSync('flock', ['--exclusive', '--nonblock', lockFile, 'true']).status).toBe(0);
      });

    if (once)
      test('consistency: ticks written to two databases during a slow dump restore with the same maximum', async () => {
        const setup = dbSetup(cluster, release, {
          extra: 'PG_DUMP_EXCLUDE_DATABASES=repmgr\n',
          dumpWrapper: dumpWrapper(cluster, 'slow-dump', `sleep 1\nexec ${PG_BIN}/pg_dumpall "$@"`),
        });
        let writing = true;
        let tick = 0;
        const writer = (async () => {
          while (writing) {
            tick++;
            for (const db of ['db_a', 'db_b'])
              cluster.sql(cluster.primaryPort, `INSERT INTO ticks VALUES (${tick})`, db);
            await sleep(20);
          }
        })();
        await sleep(500);
        const code = await startJob(setup, path.join(cluster.base, 'slow-dump')).exited;
        await sleep(500);
        writing = false;
        await writer;
        expect(code).toBe(0);
        const scratch = setup.restoreInto(25641);
        try {
          const a = Number(scratch.sql('db_a', 'SELECT max(tick) FROM ticks'));
          const b = Number(scratch.sql('db_b', 'SELECT max(tick) FROM ticks'));
          // A tick is written to db_a, then db_b: at the paused point the one in flight may be in db_a only.
          expect(a - b).toBeGreaterThanOrEqual(0);
          expect(a - b).toBeLessThanOrEqual(1);
          expect(a).toBeLessThan(tick);
        } finally {
          scratch.stop();
        }
      });

    // restic-systemd's own behaviour, the same with every restic: once.
    if (once)
      test('F1: pointed at the primary it exits 20 and leaves no snapshot; with PG_ON_PRIMARY=skip it exits 0', () => {
        const setup = dbSetup(cluster, release, { port: cluster.primaryPort });
        const result = setup.cli('run', 'pg-backup', 'db');
        expect(result.exitCode).toBe(20);
        expect(result.stderr).toContain('is a primary, not a standby');
        expect(cluster.repmgrd.running()).toBe(true);
        expect(setup.snapshots()).toHaveLength(0);
        fs.appendFileSync(path.join(setup.root, 'etc/restic/db.conf'), 'PG_ON_PRIMARY=skip\n');
        const skipped = setup.cli('run', 'pg-backup', 'db');
        expect(skipped.exitCode).toBe(0);
        expect(skipped.stderr).toMatch(
          /warning: pg-backup of db: \S+ is a primary, not a standby .*: no dump was taken \(PG_ON_PRIMARY=skip\)/,
        );
        expect(setup.snapshots()).toHaveLength(0);
        // Not a success: status reports that this node takes no dump.
        expect(status(setup.root)).toMatchObject({ result: 'warning', exitCode: 0, lastSuccess: null });
        expect(setup.cli('status', 'db').exitCode).toBe(8);
      });

    // restic-systemd's own behaviour, the same with every restic: once.
    if (once)
      test('a dead port exits 25 and leaves no snapshot', () => {
        const setup = dbSetup(cluster, release, { port: 25699 });
        const result = setup.cli('run', 'pg-backup', 'db');
        expect(result.exitCode).toBe(25);
        expect(result.stderr).toContain('cannot query the standby');
        expect(setup.snapshots()).toHaveLength(0);
      });

    // restic-systemd's own behaviour, the same with every restic: once.
    if (once)
      test('F2: replay already paused by someone else: exits 21 and leaves it paused', () => {
        const setup = dbSetup(cluster, release);
        cluster.sql(cluster.standbyPort, 'SELECT pg_wal_replay_pause()');
        try {
          const result = setup.cli('run', 'pg-backup', 'db');
          expect(result.exitCode).toBe(21);
          expect(replayState(cluster)).toBe('paused');
          expect(setup.snapshots()).toHaveLength(0);
          expect(cluster.repmgrd.running()).toBe(true);
        } finally {
          cluster.sql(cluster.standbyPort, 'SELECT pg_wal_replay_resume()');
        }
      });

    // restic-systemd's own behaviour, the same with every restic: once.
    if (once)
      test('PG_HA_MANAGER=none pauses replay and holds nothing: repmgrd runs through the dump', async () => {
        const wrapper = dumpWrapper(cluster, 'slow-dump-none', `sleep 2\nexec ${PG_BIN}/pg_dumpall "$@"`);
        const setup = dbSetup(cluster, release, { dumpWrapper: wrapper, extra: 'PG_HA_MANAGER=none\n' });
        const { exited, stderr } = startJob(setup, wrapper);
        await untilPaused(cluster);
        expect(replayState(cluster)).toBe('paused');
        expect(cluster.repmgrd.running()).toBe(true);
        expect(await exited).toBe(0);
        expect(stderr()).not.toContain('repmgrd');
        expect(replayState(cluster)).toBe('not paused');
        expect(setup.snapshots()).toHaveLength(1);
      });

    test('F3: a dump that fails half-way exits 22; its snapshot is forgotten, replay resumed, repmgrd back', () => {
      const wrapper = dumpWrapper(
        cluster,
        'failing-dump',
        `${PG_BIN}/pg_dumpall "$@" | head -c 100000\necho "pg_dumpall: error: injected failure" >&2\nexit 1`,
      );
      const setup = dbSetup(cluster, release, { dumpWrapper: wrapper });
      const result = setup.cli('run', 'pg-backup', 'db');
      expect(result.exitCode).toBe(22);
      expect(result.stderr).toContain('injected failure');
      // restic 0.17+ saves no snapshot of a failed command; 0.14 saves one, which the job forgets.
      expect(result.stderr).toContain(
        resticAtLeast(release, 0, 17) ? 'restic saved no snapshot' : 'forgot the snapshot(s) of the failed run',
      );
      expect(setup.snapshots()).toHaveLength(0);
      expect(replayState(cluster)).toBe('not paused');
      expect(cluster.repmgrd.running()).toBe(true);
      expect(status(setup.root)).toMatchObject({ result: 'failure', exitCode: 22 });
    });

    test(
      'the standby stopped during the dump: repmgrd is not started against a node that does not answer (it would ' +
        "exit at once); ExecStopPost's pg-cleanup starts it once it does, and the run's own reason stays its status",
      () => {
        const wrapper = dumpWrapper(
          cluster,
          'standby-stops',
          `${PG_BIN}/pg_ctl -D ${cluster.base}/node2 -m fast -w stop >/dev/null\necho "standby stopped" >&2\nexit 1`,
        );
        const setup = dbSetup(cluster, release, { dumpWrapper: wrapper });
        // The run waits 30 s for the standby to answer, then gives up.
        const result = setup.cli('run', 'pg-backup', 'db');
        expect(result.exitCode).not.toBe(0);
        expect(result.stderr).toContain('repmgrd was not started again: the standby does not answer');
        expect(cluster.repmgrd.running()).toBe(false);
        cluster.restartStandby();
        // ExecStopPost= after it: repmgrd started, the run's own status kept (not "ended from outside").
        const cleanup = runCli(['--root', setup.root, 'run', 'pg-cleanup', 'db'], {
          SERVICE_RESULT: 'exit-code',
          EXIT_CODE: 'exited',
          EXIT_STATUS: String(result.exitCode),
        });
        expect(cleanup.stderr).toContain('repmgrd started again');
        expect(cleanup.stderr).toContain('reported its own result');
        expect(cleanup.exitCode).toBe(0);
        expect(status(setup.root)).toMatchObject({ result: 'failure', exitCode: result.exitCode });
        expect(status(setup.root).message).not.toContain('ended from outside');
        expect(cluster.repmgrd.running()).toBe(true);
        expect(replayState(cluster)).toBe('not paused');
        const next = runCli(['--root', setup.root, 'run', 'pg-backup', 'db'], { RESTIC_BIN: release.binary });
        expect(next.exitCode).toBe(0);
      },
      120_000,
    );

    test(
      'F4: restic fails (wrong password): exits 12 before anything is paused, repmgrd untouched, no ' + 'snapshot',
      () => {
        const setup = dbSetup(cluster, release);
        fs.writeFileSync(path.join(setup.root, 'etc/restic/db.password'), 'not-the-password\n');
        const result = setup.cli('run', 'pg-backup', 'db');
        expect(result.exitCode).toBe(12);
        expect(result.stderr).toContain('wrong password');
        expect(result.stderr).not.toContain('replay was paused');
        expect(result.stderr + result.stdout).not.toContain(PASSWORD);
        expect(replayState(cluster)).toBe('not paused');
        expect(cluster.repmgrd.running()).toBe(true);
      },
    );

    test(
      "F7: SIGKILL of the job mid-dump, then pg-cleanup (ExecStopPost): replay resumed, repmgrd back, the run's " +
        'snapshot forgotten',
      async () => {
        const wrapper = dumpWrapper(cluster, 'slow-dump-2', `sleep 2\nexec ${PG_BIN}/pg_dumpall "$@"`);
        const setup = dbSetup(cluster, release, { dumpWrapper: wrapper, extra: 'BACKUP_METRICS_DIR=/metrics\n' });
        const { job, exited } = startJob(setup, wrapper);
        const marker = path.join(setup.root, 'var/lib/restic-systemd/db.pg-backup.marker.json');
        for (let tries = 0; tries < 100 && !(fs.existsSync(marker) && replayState(cluster) === 'paused'); tries++)
          await sleep(100);
        expect(replayState(cluster)).toBe('paused');
        const runId = JSON.parse(fs.readFileSync(marker, 'utf8')).runId as string;
        // Like `systemctl kill --kill-whom=main -s KILL`. restic loses its stdout with the job and ends too.
        job.kill('SIGKILL');
        await exited;
        for (let tries = 0; tries < 100 && spawnSync('pgrep', ['-f', `run:${runId}`]).status === 0; tries++)
          await sleep(100);
        expect(spawnSync('pgrep', ['-f', `run:${runId}`]).status).toBe(1);
        expect(replayState(cluster)).toBe('paused');
        expect(cluster.repmgrd.running()).toBe(false);
        // Had restic finished first, a snapshot of the killed run would exist: make one, with the run's tag.
        const kept = runCli([
          '--root',
          setup.root,
          'exec',
          'db',
          '--',
          'sh',
          '-c',
          `echo earlier | '${release.binary}' backup --stdin --tag profile:db,job:pg-backup`,
        ]);
        const leftover = runCli([
          '--root',
          setup.root,
          'exec',
          'db',
          '--',
          'sh',
          '-c',
          `echo partial | '${release.binary}' backup --stdin --tag profile:db,job:pg-backup,run:${runId}`,
        ]);
        expect([kept.exitCode, leftover.exitCode]).toEqual([0, 0]);
        expect(setup.snapshots()).toHaveLength(2);

        const cleanup = runCli(['--root', setup.root, 'run', 'pg-cleanup', 'db'], {
          SERVICE_RESULT: 'signal',
          EXIT_CODE: 'killed',
          EXIT_STATUS: 'KILL',
        });
        expect(cleanup.stderr).toContain('did not finish (SERVICE_RESULT=signal)');
        expect(cleanup.exitCode).toBe(0);
        expect(replayState(cluster)).toBe('not paused');
        expect(cluster.repmgrd.running()).toBe(true);
        expect(setup.snapshots().map((snapshot) => snapshot.tags)).toEqual([['profile:db', 'job:pg-backup']]);
        expect(status(setup.root)).toMatchObject({ result: 'failure' });
        expect(fs.existsSync(marker)).toBe(false);
        // The standby's metric says it was restored (the killed run wrote none).
        expect(fs.readFileSync(path.join(setup.root, 'metrics/restic-systemd_db_standby.prom'), 'utf8')).toContain(
          'restic_systemd_replay_left_paused{profile="db"} 0',
        );
        expect(runCli(['--root', setup.root, 'run', 'pg-cleanup', 'db']).stderr).toContain('nothing to clean up');
      },
    );

    test('pg-verify restores the latest dump into a scratch cluster and reports databases, tables and rows', () => {
      const setup = dbSetup(cluster, release, { extra: 'PG_DUMP_COMPRESSION=zstd\n' });
      expect(setup.cli('run', 'pg-backup', 'db').exitCode).toBe(0);
      const scratchBefore = scratchFolders();
      const verify = setup.cli('run', 'pg-verify', 'db');
      expect(verify.stderr).toMatch(/db_a: 2 tables, 3\d{5} rows/);
      expect(verify.exitCode).toBe(0);
      expect(status(setup.root, 'pg-verify')).toMatchObject({ result: 'success', exitCode: 0 });
      expect(newScratchFoldersLeft(scratchBefore)).toEqual([]);
    });

    // restic-systemd's own behaviour, the same with every restic: once.
    if (once)
      test('pg-verify fails on a dump that does not restore, and removes its scratch cluster', () => {
        const setup = dbSetup(cluster, release);
        const broken = runCli([
          '--root',
          setup.root,
          'exec',
          'db',
          '--',
          'sh',
          '-c',
          `echo 'CREATE TABLE t (i int); INSERT INTO t VALUES (1); THIS IS NOT SQL;' | '${release.binary}' ` +
            `backup --stdin --stdin-filename postgres-${THIS_HOST}.sql --host ${THIS_HOST} --tag ` +
            `profile:db,job:pg-backup`,
        ]);
        expect(broken.exitCode).toBe(0);
        const scratchBefore = scratchFolders();
        const verify = setup.cli('run', 'pg-verify', 'db');
        expect(verify.exitCode).toBe(5);
        expect(verify.stderr).toContain('syntax error');
        expect(newScratchFoldersLeft(scratchBefore)).toEqual([]);
      });

    // Security review F6: root appended settings through a link postgres planted, and removed its tree as root.
    if (once)
      test(
        "pg-verify writes nothing through what PG_OS_USER controls: links planted by initdb's user are neither " +
          'written through nor followed',
        () => {
          // A bindir whose initdb, run as postgres, plants links once the real initdb is done: the
          // settings file becomes a link to a root-only file, and a folder link points at root's files.
          const hostile = tempRoot();
          fs.chmodSync(hostile, 0o755);
          const victim = path.join(hostile, 'victim');
          fs.mkdirSync(victim, { mode: 0o700 });
          fs.writeFileSync(path.join(victim, 'root-only.txt'), 'root only\n', { mode: 0o600 });
          const bindir = path.join(hostile, 'bin');
          fs.mkdirSync(bindir, { mode: 0o755 });
          for (const program of ['pg_ctl', 'postgres'])
            fs.symlinkSync(path.join(PG_BIN, program), path.join(bindir, program));
          fs.writeFileSync(
            path.join(bindir, 'initdb'),
            [
              '#!/bin/sh',
              `${PG_BIN}/initdb "$@" || exit $?`,
              'data="$2"',
              `ln -s ${victim} "$data/../victim-folder"`,
              `mv "$data/postgresql.conf" "$data/postgresql.conf.real" && ln -s ${victim}/root-only.txt ` +
                `"$data/postgresql.conf"`,
              '',
            ].join('\n'),
            { mode: 0o755 },
          );
          const setup = dbSetup(cluster, release, { extra: `PG_BINDIR=${bindir}\n` });
          expect(setup.cli('run', 'pg-backup', 'db').exitCode).toBe(0);
          const before = snapshotTree(victim);
          const scratchBefore = scratchFolders();
          const verify = setup.cli('run', 'pg-verify', 'db');
          // The server cannot read the linked settings file as postgres: the run fails, and nothing of root's changed.
          expect(verify.exitCode).toBe(5);
          expect(verify.stderr).toContain('the scratch cluster did not start');
          expect(snapshotTree(victim)).toEqual(before);
          expect(newScratchFoldersLeft(scratchBefore)).toEqual([]);
        },
      );

    test(
      'the dump reaches restic through one kernel channel between the two processes; the job ' + 'holds neither end',
      async () => {
        const wrapper = dumpWrapper(cluster, 'slow-dump-3', `sleep 2\nexec ${PG_BIN}/pg_dumpall "$@"`);
        const setup = dbSetup(cluster, release, { dumpWrapper: wrapper });
        const { job, exited } = startJob(setup, wrapper);
        const descendants = (parent: number): number[] => {
          const children = spawnSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' })
            .stdout.trim()
            .split('\n')
            .filter(Boolean)
            .map(Number);
          return [...children, ...children.flatMap(descendants)];
        };
        const fdTargets = (pid: number) => {
          try {
            return fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
              try {
                return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
              } catch {
                return '';
              }
            });
          } catch {
            return [];
          }
        };
        const commandOf = (pid: number) => {
          try {
            return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          } catch {
            return '';
          }
        };
        let restic: number | undefined;
        let dump: number | undefined;
        for (let tries = 0; tries < 100 && !(restic && dump); tries++) {
          await sleep(50);
          // Short-lived processes (psql queries) may be gone by the time they are read.
          for (const pid of descendants(job.pid!)) {
            const command = commandOf(pid);
            if (command.startsWith(`${release.binary}\0backup`)) restic = pid;
            if (command.startsWith('runuser\0') && command.includes('slow-dump-3')) dump = pid;
          }
        }
        // restic 0.17+ reads the dump from a pipe of its own (--stdin-from-command); 0.14 from the socket pair the job
        // made.
        const dumpStdout = fs.readlinkSync(`/proc/${dump!}/fd/1`);
        const resticFds = fdTargets(restic!);
        if (resticAtLeast(release, 0, 17)) {
          expect(dumpStdout).toMatch(/^pipe:\[\d+\]$/);
          expect(resticFds).toContain(dumpStdout);
        } else {
          const inode = (target: string) => /\[(\d+)\]/.exec(target)![1]!;
          const peers = spawnSync('ss', ['-x', '-a'], { encoding: 'utf8' }).stdout;
          expect(peers).toMatch(
            new RegExp(`\\s${inode(fs.readlinkSync(`/proc/${restic!}/fd/0`))}\\s+\\*\\s+${inode(dumpStdout)}\\s`),
          );
        }
        // The job has no descriptor on the channel, so no byte of the dump can pass through it.
        expect(fdTargets(job.pid!)).not.toContain(dumpStdout);
        // restic holds the repository lock too (it stays locked while restic lives, if the job is killed); the
        // dump, run as another account, does not.
        const repositoryLock = /\/locks\/[0-9a-f]{16}\.lock$/;
        expect(resticFds.some((target) => repositoryLock.test(target))).toBe(true);
        for (const pid of [dump!, ...descendants(dump!)])
          expect(fdTargets(pid).filter((target) => repositoryLock.test(target))).toEqual([]);
        expect(await exited).toBe(0);
      },
    );

    test(
      "the dump gets libpq's variables and none of restic's (restic 0.17+ hands its whole environment to the " +
        'command it runs)',
      () => {
        const seen = path.join(cluster.base, `dump-environment-${release.version}`);
        const wrapper = dumpWrapper(
          cluster,
          `env-recording-dump-${release.version}`,
          `env > ${seen}\nexec ${PG_BIN}/pg_dumpall "$@"`,
        );
        const setup = dbSetup(cluster, release, {
          dumpWrapper: wrapper,
          extra: 'AWS_SECRET_ACCESS_KEY=aws-secret-of-the-repository\n',
        });
        expect(setup.cli('run', 'pg-backup', 'db').exitCode).toBe(0);
        const environment = fs.readFileSync(seen, 'utf8');
        expect(environment).toContain(`PGPORT=${cluster.standbyPort}`);
        expect(environment).not.toContain('aws-secret-of-the-repository');
        expect(environment).not.toMatch(/^(RESTIC_|AWS_)/m);
      },
    );

    // Security review F5: started by systemd, the job's environment is the whole profile; no child but restic may
    // inherit it.
    if (once)
      test(
        "started as a unit, every program but restic gets an environment of its own: repmgrd's commands, initdb " +
          "and pg_ctl get no secret, psql only libpq's",
        () => {
          const tools = tempRoot();
          fs.chmodSync(tools, 0o755);
          const recorder = path.join(tools, 'record-environment');
          // Run as root or as postgres: the record goes into the cluster's folder, which postgres owns.
          fs.writeFileSync(
            recorder,
            `#!/bin/sh\nname=$1; shift\nenv > '${cluster.base}'/env.$name.$(id -un)\nexec "$@"\n`,
            { mode: 0o755 },
          );
          const bindir = path.join(tools, 'bin');
          fs.mkdirSync(bindir, { mode: 0o755 });
          for (const program of ['initdb', 'pg_ctl'])
            fs.writeFileSync(
              path.join(bindir, program),
              `#!/bin/sh\nexec '${recorder}' ${program} ${PG_BIN}/${program} "$@"\n`,
              { mode: 0o755 },
            );
          fs.symlinkSync(path.join(PG_BIN, 'postgres'), path.join(bindir, 'postgres'));
          const psql = path.join(tools, 'psql');
          fs.writeFileSync(psql, `#!/bin/sh\nexec '${recorder}' psql ${PG_BIN}/psql "$@"\n`, { mode: 0o755 });
          const setup = dbSetup(cluster, release, {
            extra: [
              'PGPASSWORD=db-secret-of-the-profile',
              'AWS_SECRET_ACCESS_KEY=aws-secret-of-the-repository',
              `PG_BINDIR=${bindir}`,
              '',
            ].join('\n'),
          });
          // dbSetup's repmgrd commands, each through the recorder.
          const profile = path.join(setup.root, 'etc/restic/db.conf');
          fs.writeFileSync(
            profile,
            fs
              .readFileSync(profile, 'utf8')
              .replace(/^PG_REPMGRD_STOP_COMMAND=/m, `PG_REPMGRD_STOP_COMMAND=${recorder} repmgrd-stop `)
              .replace(/^PG_REPMGRD_START_COMMAND=/m, `PG_REPMGRD_START_COMMAND=${recorder} repmgrd-start `),
          );
          const asUnit = { ...unitEnvironment(profile), RESTIC_BIN: release.binary, PSQL_BIN: psql };
          for (const job of ['pg-backup', 'pg-verify']) {
            const result = runCliWithEnvironment(['--root', setup.root, 'run', job, 'db'], asUnit);
            expect({ job, exitCode: result.exitCode, stderr: result.exitCode === 0 ? '' : result.stderr }).toEqual({
              job,
              exitCode: 0,
              stderr: '',
            });
          }
          const records = fs.readdirSync(cluster.base).filter((file) => file.startsWith('env.'));
          expect(records).toEqual(
            expect.arrayContaining([
              'env.repmgrd-stop.root',
              'env.repmgrd-start.root',
              'env.initdb.postgres',
              'env.pg_ctl.postgres',
              'env.psql.postgres',
            ]),
          );
          for (const record of records) {
            const environment = fs.readFileSync(path.join(cluster.base, record), 'utf8');
            fs.rmSync(path.join(cluster.base, record));
            expect({ record, restic: environment.match(/^(RESTIC_PASSWORD|RESTIC_REPOSITORY|AWS_)\w*=.*$/gm) }).toEqual(
              {
                record,
                restic: null,
              },
            );
            expect({ record, secret: environment.includes('aws-secret-of-the-repository') }).toEqual({
              record,
              secret: false,
            });
            // libpq's password reaches libpq's programs only.
            if (!record.startsWith('env.psql.'))
              expect({ record, secret: environment.includes('db-secret-of-the-profile') }).toEqual({
                record,
                secret: false,
              });
          }
        },
      );

    // The network's failures, on one restic: the bound is the job's, the same for every release.
    if (once)
      test(
        'a repository server down: the job exits 13 before pausing; stopped while replay is paused, the run ' +
          'ends within BACKUP_NETWORK_TIMEOUT with 13, replay resumed, repmgrd back; once it is back, a run ' +
          'succeeds',
        async () => {
          const served = path.join(tempRoot(), 'served');
          const server = await restServer({ folder: served });
          try {
            const setup = dbSetup(cluster, release, {
              repository: `rest:http://127.0.0.1:${server.port}/`,
              extra: 'BACKUP_NETWORK_TIMEOUT=5s\n',
            });
            await server.stop();
            const down = setup.cli('run', 'pg-backup', 'db');
            expect(down.exitCode).toBe(13);
            expect(down.stderr).toContain('cannot be reached');
            expect(down.stderr).not.toMatch(/paused/);

            await server.start();
            const wrapper = dumpWrapper(cluster, 'slow-dump-network', `sleep 2\nexec ${PG_BIN}/pg_dumpall "$@"`);
            const started = Date.now();
            const run = startJob(setup, wrapper);
            await untilPaused(cluster);
            expect(replayState(cluster)).toBe('paused');
            await server.stop();
            expect(await run.exited).toBe(13);
            // 2 s of sleep, then a dump restic cannot store: stopped after 5 s of retries (plus restic's last
            // back-off).
            expect((Date.now() - started) / 1000).toBeLessThan(60);
            expect(run.stderr()).toContain('the repository cannot be reached');
            expect(replayState(cluster)).toBe('not paused');
            expect(cluster.repmgrd.running()).toBe(true);
            expect(status(setup.root)).toMatchObject({ result: 'failure', exitCode: 13 });

            await server.start();
            expect(setup.cli('run', 'pg-backup', 'db').exitCode).toBe(0);
            // The failed run's snapshot, if restic saved one, was forgotten: only the last run's is there.
            expect(setup.snapshots()).toHaveLength(1);
          } finally {
            await server.stop();
          }
        },
        120_000,
      );

    test('gzip and zstd compression store postgres-<host>.sql.gz and .sql.zst', () => {
      for (const [mode, suffix] of [
        ['gzip', '.sql.gz'],
        ['zstd', '.sql.zst'],
      ] as const) {
        const setup = dbSetup(cluster, release, { extra: `PG_DUMP_COMPRESSION=${mode}\n` });
        expect(setup.cli('run', 'pg-backup', 'db').exitCode).toBe(0);
        const listed = setup.restic('ls', 'latest');
        expect(listed.stdout).toContain(`/postgres-${THIS_HOST}${suffix}`);
      }
    });

    // restic-systemd's own behaviour, the same with every restic: once.
    if (once)
      test(
        'gzip mode compresses with pigz when it is installed, with gzip when it is not; both give a valid ' + '.sql.gz',
        () => {
          const log = path.join(cluster.base, 'pigz-argv.log');
          // pigz runs as root: its override must be root's, in a folder only root can write (not cluster.base).
          const recordingPigz = path.join(tempRoot(), 'recording-pigz');
          fs.writeFileSync(recordingPigz, `#!/bin/sh\necho "$*" >> ${log}\nexec pigz "$@"\n`, { mode: 0o755 });
          fs.writeFileSync(log, '');
          fs.chmodSync(log, 0o666);
          for (const pigz of [recordingPigz, '/nonexistent/pigz']) {
            const setup = dbSetup(cluster, release, { extra: 'PG_DUMP_COMPRESSION=gzip\n' });
            expect(runCli(['--root', setup.root, 'run', 'pg-backup', 'db'], { PIGZ_BIN: pigz }).exitCode).toBe(0);
            const check = runCli([
              '--root',
              setup.root,
              'exec',
              'db',
              '--',
              'sh',
              '-c',
              `'${release.binary}' dump latest /postgres-${THIS_HOST}.sql.gz | gzip -dc | tail -c 200`,
            ]);
            expect(check.stdout).toContain('PostgreSQL database cluster dump complete');
          }
          // The first run went through pigz, with the same flags as gzip; the second, without pigz, did not.
          expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual(['--rsyncable -c']);
        },
      );
  });

  describe('when the standby changes under the dump', () => {
    /** On a cluster of its own: start a slow dump, do something to the standby once replay is paused, then check. */
    async function faultMidDump(
      primaryPort: number,
      fault: (cluster: PgCluster) => void,
      check: (cluster: PgCluster, setup: DbSetup, code: number | null, stderr: string) => void,
    ) {
      const cluster = startCluster(primaryPort);
      try {
        const wrapper = dumpWrapper(cluster, 'slow-dump', `sleep 2\nexec ${PG_BIN}/pg_dumpall "$@"`);
        cluster.repmgrd.start();
        const setup = dbSetup(cluster, release, { dumpWrapper: wrapper });
        const run = startJob(setup, wrapper);
        await untilPaused(cluster);
        fault(cluster);
        check(cluster, setup, await run.exited, run.stderr());
      } finally {
        cluster.stop();
      }
    }

    // Forgetting a stored snapshot is F3's, on every restic; the promotion path: once.
    if (once)
      test('F5: promoted mid-dump: detected, exits 24, the snapshot forgotten', async () => {
        await faultMidDump(
          25652,
          (cluster) => cluster.promoteStandby(),
          (cluster, setup, code, stderr) => {
            expect(stderr).toContain('the node was promoted during the dump');
            expect(code).toBe(24);
            expect(setup.snapshots()).toHaveLength(0);
            expect(cluster.repmgrd.running()).toBe(true);
          },
        );
      }, 120_000);

    // The same path as F5 on every restic: once.
    if (once)
      test(
        'F8: standby restarted mid-dump (the pause is lost): detected, fails, the snapshot forgotten, replay ' +
          'not paused',
        async () => {
          await faultMidDump(
            25662,
            (cluster) => cluster.restartStandby(),
            (cluster, setup, code) => {
              expect([22, 24]).toContain(code);
              expect(setup.snapshots()).toHaveLength(0);
              expect(replayState(cluster)).toBe('not paused');
            },
          );
        },
        120_000,
      );
  });
});
