/**
 * PG_DUMP_MODE=spool against the real primary + standby and real restic of every supported
 * release: replay is resumed once pg_dumpall is done, restic reads the finished spool. The
 * fault matrix of the streaming mode, for the spool: the primary (F1), a dump failing half-way, a kill while spooling
 * and a kill while restic reads the spool, a promotion mid-dump, a file system too small for the
 * estimate and one that fills up while spooling (real, loop-mounted ext4), a folder others can
 * enter, a RAM file system. Only wrappers around pg_dumpall and restic inject failure or delay.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT, runCli, type CliResult } from '../helpers/cli.js';
import type { ResticRelease } from '../helpers/global-setup.js';
import { PG_BIN, standbyProfileLines, startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { THIS_HOST, createRepository } from '../helpers/restic.js';
import { RESTIC_MATRIX } from '../helpers/restic-versions.js';
import { removeTempRoots, tempRoot, writeProfile } from '../helpers/temp-root.js';

const PASSWORD = 'pg-spool-repository-password';
const SPOOL = 'var/lib/restic-systemd/spool';

interface SpoolSetup {
  root: string;
  cli: (...args: string[]) => CliResult;
  env: NodeJS.ProcessEnv;
  snapshots: () => Array<{ id: string; tags?: string[] }>;
  spoolFiles: () => string[];
}

function spoolSetup(
  cluster: PgCluster,
  release: ResticRelease,
  options: { root?: string; extra?: string; env?: NodeJS.ProcessEnv; port?: number } = {},
): SpoolSetup {
  const root = options.root ?? tempRoot();
  fs.writeFileSync(path.join(root, 'etc/restic/db.password'), `${PASSWORD}\n`, { mode: 0o600 });
  writeProfile(
    root,
    'db',
    [
      ...standbyProfileLines(cluster, options.port),
      `PG_REPMGRD_STOP_COMMAND=${cluster.repmgrd.stopCommand}`,
      `PG_REPMGRD_START_COMMAND=${cluster.repmgrd.startCommand}`,
      'PG_DUMP_FORMAT=sql',
      'PG_DUMP_MODE=spool',
      options.extra ?? '',
    ].join('\n') + '\n',
  );
  createRepository(release, path.join(root, 'srv/repo'), PASSWORD);
  const env = { RESTIC_BIN: release.binary, ...options.env };
  const spoolDir = () => {
    const custom = /^PG_SPOOL_DIR=(.+)$/m.exec(options.extra ?? '')?.[1];
    return path.join(root, custom ?? SPOOL);
  };
  return {
    root,
    env,
    cli: (...args) => runCli(['--root', root, ...args], env),
    snapshots: () =>
      JSON.parse(runCli(['--root', root, 'exec', 'db', '--', release.binary, 'snapshots', '--json']).stdout),
    spoolFiles: () => (fs.existsSync(spoolDir()) ? fs.readdirSync(spoolDir()) : []),
  };
}

function wrapper(cluster: PgCluster, name: string, body: string): string {
  const file = path.join(cluster.base, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

function startJob(setup: SpoolSetup, env: NodeJS.ProcessEnv) {
  const job = spawn(
    process.execPath,
    [path.join(PROJECT, 'dist/cli.js'), '--root', setup.root, 'run', 'pg-backup', 'db'],
    { env: { ...process.env, ...setup.env, ...env } },
  );
  let stderr = '';
  job.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => job.on('exit', resolve));
  return { job, exited, stderr: () => stderr };
}

/** A file system of its own mounted at `mount` (a small loop-mounted ext4, or a tmpfs), to run out of space on. */
function mountFileSystem(mount: string, kind: { ext4MiB: number } | 'tmpfs'): () => void {
  fs.mkdirSync(mount, { recursive: true });
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-fs-'));
  if (kind === 'tmpfs') {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64M,mode=0700', 'tmpfs', mount]);
  } else {
    const image = path.join(folder, 'image');
    execFileSync('truncate', ['-s', `${kind.ext4MiB}M`, image]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
    execFileSync('mount', ['-o', 'loop', image, mount]);
  }
  return () => {
    spawnSync('umount', [mount]);
    fs.rmSync(folder, { recursive: true, force: true });
  };
}

const replayState = (cluster: PgCluster) => cluster.sql(cluster.standbyPort, 'SELECT pg_get_wal_replay_pause_state()');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const markerOf = (setup: SpoolSetup) => path.join(setup.root, 'var/lib/restic-systemd/db.pg-backup.marker.json');

afterAll(removeTempRoots);

describe.each(RESTIC_MATRIX)('with restic %s', (_label, release) => {
  const once = release.suite === 'trixie';
  let cluster: PgCluster;
  beforeAll(() => {
    cluster = startCluster(25672);
    cluster.sql(cluster.primaryPort, 'CREATE DATABASE db_a');
    cluster.sql(
      cluster.primaryPort,
      'CREATE TABLE big AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 300000) g',
      'db_a',
    );
    cluster.repmgrd.start();
  }, 120_000);
  afterAll(() => cluster?.stop());

  test(
    'PG_SPOOL_COMPRESSION=zstd: the dump is spooled compressed while replay is paused, restic stores the same ' +
      "SQL afterwards, with the paused point's tags; it restores every row; no spool is left",
    () => {
      const setup = spoolSetup(cluster, release, { extra: 'PG_SPOOL_COMPRESSION=zstd' });
      const result = setup.cli('run', 'pg-backup', 'db', '--verbose');
      expect(result.stderr).toMatch(
        /spooled [\d.]+ \w+ \(\d+ bytes, zstd\); replay is resumed, restic reads the spool/,
      );
      // restic starts once pg_dumpall has finished, while the checks run and replay is resumed: it never held the
      // pause.
      const readerStarted = result.stderr.search(/running: .*(internal-pipeline|zstd -d)/);
      expect(readerStarted).toBeGreaterThan(result.stderr.search(/running: .*pg_dumpall.*\| .*zstd -1/));
      expect(readerStarted).toBeLessThan(result.stderr.indexOf('WAL replay resumed'));
      expect(result.exitCode).toBe(0);
      expect(replayState(cluster)).toBe('not paused');
      expect(cluster.repmgrd.running()).toBe(true);
      expect(setup.spoolFiles()).toEqual([]);
      expect(fs.statSync(path.join(setup.root, SPOOL)).mode & 0o777).toBe(0o700);
      const [snapshot] = setup.snapshots();
      expect(snapshot!.tags).toEqual(
        expect.arrayContaining([
          'profile:db',
          'job:pg-backup',
          expect.stringMatching(/^lsn:[0-9A-F]+\/[0-9A-F]+$/),
          'timeline:1',
          expect.stringMatching(/^pg-major:\d+$/),
        ]),
      );
      const tail = runCli([
        '--root',
        setup.root,
        'exec',
        'db',
        '--',
        'sh',
        '-c',
        `'${release.binary}' dump latest /postgres-${THIS_HOST}.sql | grep -cE '^[0-9]+\\s[0-9a-f]{32}$'`,
      ]);
      expect(tail.stdout.trim()).toBe('300000');
    },
  );

  test(
    'by default (PG_SPOOL_COMPRESSION=none) the spool is the SQL itself, read back with cat; restic stores the ' +
      "same SQL with the paused point's tags; no spool is left",
    () => {
      const setup = spoolSetup(cluster, release);
      const result = setup.cli('run', 'pg-backup', 'db', '--verbose');
      expect(result.exitCode).toBe(0);
      const spooled = Number(
        /spooled [\d.]+ \w+ \((\d+) bytes, uncompressed\); replay is resumed/.exec(result.stderr)?.[1],
      );
      // 300000 rows of at least 33 bytes each: not compressed.
      expect(spooled).toBeGreaterThan(300000 * 33);
      expect(result.stderr).not.toMatch(/running: .*zstd/);
      expect(result.stderr).toMatch(/running: .*(internal-pipeline|cat -- \S+\.sql\b)/);
      expect(replayState(cluster)).toBe('not paused');
      expect(setup.spoolFiles()).toEqual([]);
      const rows = runCli([
        '--root',
        setup.root,
        'exec',
        'db',
        '--',
        'sh',
        '-c',
        `'${release.binary}' dump latest /postgres-${THIS_HOST}.sql | grep -cE '^[0-9]+\\s[0-9a-f]{32}$'`,
      ]);
      expect(rows.stdout.trim()).toBe('300000');
      expect(setup.snapshots()[0]!.tags).toEqual(
        expect.arrayContaining([expect.stringMatching(/^lsn:[0-9A-F]+\/[0-9A-F]+$/), 'timeline:1']),
      );
    },
  );

  // restic-systemd's own behaviour, the same with every restic: once.
  if (once)
    test('F3: a dump that fails half-way while spooling exits 22; replay resumed, no spool, no snapshot', () => {
      const failing = wrapper(
        cluster,
        'failing-dump',
        `${PG_BIN}/pg_dumpall "$@" | head -c 100000\necho "pg_dumpall: error: injected failure" >&2\nexit 1`,
      );
      const setup = spoolSetup(cluster, release, { env: { PG_DUMPALL_BIN: failing } });
      const result = setup.cli('run', 'pg-backup', 'db');
      expect(result.exitCode).toBe(22);
      expect(result.stderr).toContain('injected failure');
      expect(setup.snapshots()).toHaveLength(0);
      expect(setup.spoolFiles()).toEqual([]);
      expect(replayState(cluster)).toBe('not paused');
      expect(cluster.repmgrd.running()).toBe(true);
    });

  test(
    'SIGKILL while restic reads the spool (replay already resumed), then pg-cleanup: no spool, no snapshot of ' +
      'the run, replay not paused',
    async () => {
      // restic waits 3 s before it starts storing: the kill lands while it reads the spool.
      // In the root-owned test root: a *_BIN override must be root's (the trust rule).
      const root = tempRoot();
      const slowRestic = path.join(root, 'slow-restic');
      fs.writeFileSync(
        slowRestic,
        `#!/bin/sh\ncase " $* " in *" backup "*) sleep 3;; esac\nexec '${release.binary}' "$@"\n`,
        { mode: 0o755 },
      );
      const setup = spoolSetup(cluster, release, { root, env: { RESTIC_BIN: slowRestic } });
      const { job, exited } = startJob(setup, {});
      let marker: { runId?: string; replayPaused?: boolean; spool?: string } = {};
      // The dump of 300 000 rows takes seconds, more while other suites load both cores: a deadline, not a count.
      for (const deadline = Date.now() + 90_000; Date.now() < deadline;) {
        if (fs.existsSync(markerOf(setup))) marker = JSON.parse(fs.readFileSync(markerOf(setup), 'utf8'));
        if (marker.spool && marker.replayPaused === false && setup.spoolFiles().length === 1) break;
        await sleep(50);
      }
      expect(marker).toMatchObject({ replayPaused: false, spool: expect.stringMatching(/\.sql$/) });
      expect(replayState(cluster)).toBe('not paused');
      const spoolFile = path.join(setup.root, marker.spool!);
      expect(fs.statSync(spoolFile).mode & 0o777).toBe(0o600);
      job.kill('SIGKILL');
      await exited;
      for (let tries = 0; tries < 200 && spawnSync('pgrep', ['-f', `run:${marker.runId}`]).status === 0; tries++)
        await sleep(100);
      const cleanup = runCli(['--root', setup.root, 'run', 'pg-cleanup', 'db'], {
        ...setup.env,
        SERVICE_RESULT: 'signal',
      });
      expect(cleanup.exitCode).toBe(0);
      expect(fs.existsSync(spoolFile)).toBe(false);
      expect(setup.snapshots()).toHaveLength(0);
      expect(replayState(cluster)).toBe('not paused');
      expect(fs.existsSync(markerOf(setup))).toBe(false);
    },
    180_000,
  );

  if (once) {
    test('F7: SIGKILL while spooling, then pg-cleanup: replay resumed, repmgrd back, the spool removed', async () => {
      const slow = wrapper(cluster, 'slow-dump', `sleep 3\nexec ${PG_BIN}/pg_dumpall "$@"`);
      const setup = spoolSetup(cluster, release, { env: { PG_DUMPALL_BIN: slow } });
      const { job, exited } = startJob(setup, {});
      for (
        let tries = 0;
        tries < 100 && !(replayState(cluster) === 'paused' && setup.spoolFiles().length === 1);
        tries++
      )
        await sleep(100);
      expect(replayState(cluster)).toBe('paused');
      expect(setup.spoolFiles()).toHaveLength(1);
      job.kill('SIGKILL');
      await exited;
      const cleanup = runCli(['--root', setup.root, 'run', 'pg-cleanup', 'db'], {
        ...setup.env,
        SERVICE_RESULT: 'signal',
      });
      expect(cleanup.exitCode).toBe(0);
      expect(replayState(cluster)).toBe('not paused');
      expect(cluster.repmgrd.running()).toBe(true);
      expect(setup.spoolFiles()).toEqual([]);
      expect(setup.snapshots()).toHaveLength(0);
    });

    test(
      'F2 and F4 hold before the spool is touched: replay paused by someone else exits 21, a wrong password ' +
        'exits 12; no spool',
      () => {
        const setup = spoolSetup(cluster, release);
        cluster.sql(cluster.standbyPort, 'SELECT pg_wal_replay_pause()');
        try {
          expect(setup.cli('run', 'pg-backup', 'db').exitCode).toBe(21);
        } finally {
          cluster.sql(cluster.standbyPort, 'SELECT pg_wal_replay_resume()');
        }
        fs.writeFileSync(path.join(setup.root, 'etc/restic/db.password'), 'not-the-password\n');
        expect(setup.cli('run', 'pg-backup', 'db').exitCode).toBe(12);
        expect(setup.spoolFiles()).toEqual([]);
        expect(replayState(cluster)).toBe('not paused');
      },
    );

    test(
      'a file system smaller than the databases: spool refuses (exit 26) before anything is paused; auto ' +
        'streams instead',
      () => {
        const setup = spoolSetup(cluster, release, { extra: 'PG_SPOOL_DIR=/srv/spool-small' });
        const unmount = mountFileSystem(path.join(setup.root, 'srv/spool-small'), { ext4MiB: 16 });
        try {
          fs.chmodSync(path.join(setup.root, 'srv/spool-small'), 0o700);
          const refused = setup.cli('run', 'pg-backup', 'db');
          expect(refused.exitCode).toBe(26);
          expect(refused.stderr).toMatch(/has [\d.]+ \w+ free, less than the [\d.]+ \w+ of the databases/);
          expect(refused.stderr).not.toContain('replay was paused');
          expect(setup.snapshots()).toHaveLength(0);
          fs.appendFileSync(path.join(setup.root, 'etc/restic/db.conf'), 'PG_DUMP_MODE=auto\n');
          const profile = fs
            .readFileSync(path.join(setup.root, 'etc/restic/db.conf'), 'utf8')
            .replace('PG_DUMP_MODE=spool\n', '');
          fs.writeFileSync(path.join(setup.root, 'etc/restic/db.conf'), profile);
          const streamed = setup.cli('run', 'pg-backup', 'db');
          expect(streamed.stderr).toContain('streaming the dump instead of spooling it (PG_DUMP_MODE=auto)');
          expect(streamed.exitCode).toBe(0);
          expect(setup.snapshots()).toHaveLength(1);
        } finally {
          unmount();
        }
      },
    );

    test(
      'the disk fills up while spooling: fails closed (exit 22), replay resumed within the run, no spool, no ' +
        'snapshot',
      () => {
        const root = tempRoot();
        const mount = path.join(root, 'srv/spool-disk');
        // Room for the check before the pause (twice the databases, uncompressed, plus the reserve).
        const unmount = mountFileSystem(mount, { ext4MiB: 400 });
        try {
          const spool = path.join(mount, 'spool');
          const filler = path.join(mount, 'filler');
          fs.mkdirSync(spool, { mode: 0o700 });
          fs.mkdirSync(filler);
          execFileSync('chown', ['postgres', filler]);
          // postgres (who runs the dump wrapper) must reach its filler folder through the test root.
          fs.chmodSync(root, 0o711);
          // After the estimate held: postgres' own files take all but 1 MiB of the file system.
          const filling = wrapper(
            cluster,
            'filling-dump',
            `free=$(df --output=avail -B1 '${mount}' | tail -1)\nfallocate -l $((free - 1048576)) ` +
              `'${filler}/big'\nexec ${PG_BIN}/pg_dumpall "$@"`,
          );
          const setup = spoolSetup(cluster, release, {
            root,
            extra: 'PG_SPOOL_DIR=/srv/spool-disk/spool',
            env: { PG_DUMPALL_BIN: filling },
          });
          const result = setup.cli('run', 'pg-backup', 'db');
          expect(result.exitCode).toBe(22);
          expect(result.stderr).toMatch(/failed while spooling/);
          expect(result.stderr).toMatch(/No space left on device/i);
          expect(fs.readdirSync(spool)).toEqual([]);
          expect(setup.snapshots()).toHaveLength(0);
          expect(replayState(cluster)).toBe('not paused');
        } finally {
          unmount();
        }
      },
    );

    test(
      'a spool folder others can enter, or one on a RAM file system, is refused (exit 26) before anything is ' +
        'paused',
      () => {
        const setup = spoolSetup(cluster, release);
        fs.mkdirSync(path.join(setup.root, SPOOL), { recursive: true });
        fs.chmodSync(path.join(setup.root, SPOOL), 0o755);
        const open = setup.cli('run', 'pg-backup', 'db');
        expect(open.exitCode).toBe(26);
        expect(open.stderr).toContain('can be entered by other accounts (mode 755)');
        const onRam = spoolSetup(cluster, release, { extra: 'PG_SPOOL_DIR=/srv/spool-ram' });
        const unmount = mountFileSystem(path.join(onRam.root, 'srv/spool-ram'), 'tmpfs');
        try {
          const refused = onRam.cli('run', 'pg-backup', 'db');
          expect(refused.exitCode).toBe(26);
          expect(refused.stderr).toContain('is on a tmpfs, in memory');
        } finally {
          unmount();
        }
        expect(replayState(cluster)).toBe('not paused');
      },
    );

    test('F1: pointed at the primary it exits 20 before the spool is touched; no snapshot', () => {
      const setup = spoolSetup(cluster, release, { port: cluster.primaryPort });
      const result = setup.cli('run', 'pg-backup', 'db');
      expect(result.exitCode).toBe(20);
      expect(result.stderr).toContain('is a primary, not a standby');
      expect(setup.spoolFiles()).toEqual([]);
      expect(setup.snapshots()).toHaveLength(0);
      expect(cluster.repmgrd.running()).toBe(true);
    });

    test(
      'F8: the standby restarted while spooling (the pause is lost): detected, fails, no spool, no snapshot, ' +
        'replay not paused',
      async () => {
        const slow = wrapper(cluster, 'slow-dump-f8', `sleep 2\nexec ${PG_BIN}/pg_dumpall "$@"`);
        const setup = spoolSetup(cluster, release, { env: { PG_DUMPALL_BIN: slow } });
        const run = startJob(setup, {});
        for (let tries = 0; tries < 100 && replayState(cluster) !== 'paused'; tries++) await sleep(100);
        cluster.restartStandby();
        expect([22, 24]).toContain(await run.exited);
        expect(setup.spoolFiles()).toEqual([]);
        expect(setup.snapshots()).toHaveLength(0);
        for (let tries = 0; tries < 100 && replayState(cluster) !== 'not paused'; tries++) await sleep(100);
        // (repmgrd is started again by the job, but may exit on its own while the node restarts: not asserted, as when
        // streaming.)
        expect(replayState(cluster)).toBe('not paused');
      },
      120_000,
    );
  }
});

describe('when the standby is promoted while spooling', () => {
  test('F5: detected, exits 24, no spool, no snapshot', async () => {
    const [, release] = RESTIC_MATRIX.find(([, item]) => item.suite === 'trixie')!;
    const cluster = startCluster(25682);
    try {
      cluster.repmgrd.start();
      const slow = wrapper(cluster, 'slow-dump', `sleep 2\nexec ${PG_BIN}/pg_dumpall "$@"`);
      const setup = spoolSetup(cluster, release, { env: { PG_DUMPALL_BIN: slow } });
      const run = startJob(setup, {});
      for (let tries = 0; tries < 100 && replayState(cluster) !== 'paused'; tries++) await sleep(100);
      cluster.promoteStandby();
      expect(await run.exited).toBe(24);
      expect(run.stderr()).toContain('the node was promoted during the dump');
      expect(setup.spoolFiles()).toEqual([]);
      expect(setup.snapshots()).toHaveLength(0);
    } finally {
      cluster.stop();
    }
  }, 120_000);
});
