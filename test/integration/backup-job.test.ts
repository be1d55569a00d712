/**
 * The restic@ job against real restic, each test on every supported release (Debian 12's 0.14,
 * Debian 13's 0.18, the development suite's newest): init, backup, scoped retention, exec,
 * status files and metrics, and the faults an operator meets.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repositoryLockFile } from '../../src/locks/repository-lock.js';
import { loadProfile } from '../../src/profile/load.js';
import { runCli } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { THIS_HOST, resticSetup, slowRestic, snapshots } from '../helpers/restic.js';
import { RESTIC_MATRIX, RESTIC_RELEASES } from '../helpers/restic-versions.js';
import { allFileText, removeTempRoots, tempRoot } from '../helpers/temp-root.js';

afterAll(removeTempRoots);

const status = (root: string, name: string, job = 'backup') =>
  JSON.parse(fs.readFileSync(path.join(root, 'var/lib/restic-systemd', `${name}.${job}.json`), 'utf8'));

describe.each(RESTIC_MATRIX)('with restic %s', (_label, release) => {
  const setupFor = (root: string, options: Parameters<typeof resticSetup>[1] = {}) =>
    resticSetup(root, { ...options, release });

  describe('as a new user would: a local repository with a 0600 password file', () => {
    const setup = setupFor(tempRoot());
    const outputs: string[] = [];
    const record = <T extends { stdout: string; stderr: string }>(result: T): T => {
      outputs.push(result.stdout, result.stderr);
      return result;
    };

    test('init twice exits 0, and restic init runs only once', () => {
      const first = record(setup.init());
      expect(first.stderr).toBe('');
      expect(first.exitCode).toBe(0);
      expect(first.stdout).toContain('created the repository /srv/repo');
      const second = record(setup.cli('init', setup.name));
      expect(second.exitCode).toBe(0);
      expect(second.stdout).toContain('already exists');
      const inits = fs
        .readFileSync(setup.argvLog, 'utf8')
        .split('\n')
        .filter((line) => line === 'init');
      expect(inits).toHaveLength(1);
    });

    test(
      'two backups give two snapshots of this host, tagged with the profile and job; with no stale lock there ' +
        'is no unlock',
      () => {
        fs.writeFileSync(setup.argvLog, '');
        expect(record(setup.cli('run', 'backup', setup.name)).exitCode).toBe(0);
        // Every restic process derives the key (~0.7 s): a run makes no call it does not need.
        expect(
          fs
            .readFileSync(setup.argvLog, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => line.split(' ')[0]),
        ).toEqual(['version', 'backup', 'forget']);
        fs.writeFileSync(path.join(setup.data, 'second.txt'), 'more\n');
        expect(record(setup.cli('run', 'backup', setup.name)).exitCode).toBe(0);
        const list = snapshots(setup);
        expect(list).toHaveLength(2);
        for (const snapshot of list) {
          expect(snapshot.hostname).toBe(THIS_HOST);
          expect(snapshot.tags).toEqual(['profile:myconf', 'job:backup']);
        }
      },
    );

    test('the status file tells the last run: success, snapshot, files, bytes, duration', () => {
      const last = status(setup.root, setup.name);
      expect(last).toMatchObject({
        profile: 'myconf',
        job: 'backup',
        result: 'success',
        exitCode: 0,
        filesNew: 1,
        resticVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      });
      // The full ID (restic 0.14 prints only the short one: the job finds the full one).
      expect(last.snapshotId).toBe(snapshots(setup)[1]!.id);
      expect(last.snapshotId).toMatch(/^[0-9a-f]{64}$/);
      expect(last.lastSuccess).toBe(last.end);
      expect(last.bytesAdded).toBeGreaterThan(0);
    });

    test("a wrong password exits 12 with restic's meaning; neither password shows anywhere", () => {
      const wrong = 'wrong-password-77aa';
      fs.writeFileSync(path.join(setup.root, 'etc/restic/myconf.password'), `${wrong}\n`);
      const result = record(setup.cli('run', 'backup', setup.name, '--verbose'));
      expect(result.exitCode).toBe(12);
      expect(result.stderr).toContain('wrong password or no key found');
      const failed = status(setup.root, setup.name);
      expect(failed).toMatchObject({ result: 'failure', exitCode: 12 });
      expect(failed.lastSuccess).not.toBeNull();
      const everything = [
        ...outputs,
        fs.readFileSync(setup.argvLog, 'utf8'),
        allFileText(path.join(setup.root, 'var')),
      ].join('\n');
      expect(everything).not.toContain(setup.password);
      expect(everything).not.toContain(wrong);
    });
  });

  test('a password written into the profile never reaches argv, logs, status files or metrics', () => {
    const root = tempRoot();
    const setup = setupFor(root, { inlinePassword: true, extra: 'BACKUP_METRICS_DIR=/srv/metrics\n' });
    const results = [
      setup.cli('init', setup.name, '--verbose'),
      setup.cli('run', 'backup', setup.name, '--verbose', '--json'),
      setup.cli('render', setup.name),
    ];
    for (const result of results) expect(result.exitCode).toBe(0);
    const texts = [
      ...results.flatMap((result) => [result.stdout, result.stderr]),
      fs.readFileSync(setup.argvLog, 'utf8'),
      allFileText(path.join(root, 'var')),
      allFileText(path.join(root, 'srv/metrics')),
    ];
    expect(texts.join('\n')).not.toContain(setup.password);
    expect(results[1]!.stderr).toContain('restic');
  });

  test("retention forgets only this host's snapshots of this profile's backup job", () => {
    const setup = setupFor(tempRoot(), { extra: 'BACKUP_KEEP_WITHIN=\nBACKUP_KEEP_LAST=1\n' });
    setup.createRepository();
    const restic = (...args: string[]) => runCli(['exec', setup.name, '--root', setup.root, '--', 'restic', ...args]);
    expect(restic('backup', '--host', 'other-host', '--tag', 'profile:myconf,job:backup', setup.data).exitCode).toBe(0);
    expect(restic('backup', '--host', THIS_HOST, '--tag', 'profile:other,job:backup', setup.data).exitCode).toBe(0);
    expect(restic('backup', '--host', THIS_HOST, '--tag', 'profile:myconf,job:pg-backup', setup.data).exitCode).toBe(0);
    for (let run = 0; run < 3; run++) expect(setup.cli('run', 'backup', setup.name).exitCode).toBe(0);
    const list = snapshots(setup);
    const ours = list.filter(
      (snapshot) => snapshot.hostname === THIS_HOST && snapshot.tags?.join(',') === 'profile:myconf,job:backup',
    );
    expect(ours).toHaveLength(1);
    expect(list).toHaveLength(4);
  });

  describe('the warning path: restic saved the snapshot but could not read some files', () => {
    const NOBODY = 65534;
    // As root every file is readable, so the job runs as nobody and one file is root's alone.
    function unprivilegedSetup(extra = '') {
      const root = tempRoot();
      fs.chmodSync(root, 0o755);
      const setup = setupFor(root, { extra });
      fs.writeFileSync(path.join(setup.data, 'secret-of-root.txt'), 'no\n', { mode: 0o600 });
      for (const folder of ['var/lib/restic-systemd', 'var/cache/restic-systemd', 'srv'])
        fs.mkdirSync(path.join(root, folder), { recursive: true });
      setup.createRepository();
      spawnSync('chown', [
        '-R',
        `${NOBODY}:${NOBODY}`,
        path.join(root, 'etc'),
        path.join(root, 'var'),
        path.join(root, 'srv'),
      ]);
      fs.writeFileSync(setup.argvLog, '');
      spawnSync('chown', [`${NOBODY}:${NOBODY}`, setup.data, path.join(setup.data, 'hello.txt'), setup.argvLog]);
      const asNobody = (...args: string[]) =>
        spawnSync(
          'setpriv',
          [
            '--reuid',
            String(NOBODY),
            '--regid',
            String(NOBODY),
            '--clear-groups',
            process.execPath,
            path.resolve('dist/cli.js'),
            ...args,
            '--root',
            root,
          ],
          {
            encoding: 'utf8',
            env: { ...process.env, ...setup.env, HOME: '/nonexistent' },
          },
        );
      return { setup, asNobody };
    }

    test('exits 6, names the unreadable file, saves the snapshot and skips retention', () => {
      const { setup, asNobody } = unprivilegedSetup();
      const result = asNobody('run', 'backup', setup.name);
      expect(result.status).toBe(6);
      expect(result.stderr).toContain('secret-of-root.txt');
      expect(result.stderr).toContain('Retention did not run');
      expect(status(setup.root, setup.name)).toMatchObject({ result: 'warning', exitCode: 6, lastSuccess: null });
      // Read as root, who runs only a profile of root's.
      spawnSync('chown', ['-R', 'root:root', path.join(setup.root, 'etc')]);
      expect(snapshots(setup)).toHaveLength(1);
      expect(fs.readFileSync(setup.argvLog, 'utf8')).not.toMatch(/^forget/m);
    });

    test('with BACKUP_WARNING_IS_SUCCESS=yes the same run exits 0 and retention runs', () => {
      const { setup, asNobody } = unprivilegedSetup('BACKUP_WARNING_IS_SUCCESS=yes\n');
      const result = asNobody('run', 'backup', setup.name);
      expect(result.status).toBe(0);
      expect(result.stderr).toContain('secret-of-root.txt');
      expect(status(setup.root, setup.name)).toMatchObject({ result: 'success', exitCode: 0 });
      expect(fs.readFileSync(setup.argvLog, 'utf8')).toMatch(/^forget/m);
    });
  });

  test('a BACKUP_PATHS entry that does not exist is a warning, not a silent success', () => {
    const setup = setupFor(tempRoot(), {
      extra: 'BACKUP_PATHS=/data /media/not-mounted\n'.replace('BACKUP_PATHS', 'BACKUP_EXCLUDE=*.tmp\nBACKUP_PATHS'),
    });
    fs.writeFileSync(
      path.join(setup.root, 'etc/restic/myconf.conf'),
      `RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_FILE=/etc/restic/myconf.password\nBACKUP_PATHS=/data ` +
        `/media/not-mounted\n`,
      { mode: 0o600 },
    );
    setup.createRepository();
    const result = setup.cli('run', 'backup', setup.name);
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toContain('/media/not-mounted');
    expect(snapshots(setup)).toHaveLength(1);
  });

  test('a stale lock left by a killed restic is removed and the backup succeeds', async () => {
    const setup = setupFor(tempRoot());
    setup.createRepository();
    const locks = path.join(setup.root, 'srv/repo/locks');
    const restic: ChildProcess = spawn(release.binary, ['backup', '--stdin'], {
      env: {
        ...process.env,
        RESTIC_REPOSITORY: path.join(setup.root, 'srv/repo'),
        RESTIC_PASSWORD: setup.password,
        RESTIC_CACHE_DIR: path.join(setup.root, 'cache'),
      },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    // Killed only once its lock is written: a lock file killed half-written cannot be read, and restic ignores those.
    const written = () => fs.readdirSync(locks).some((lock) => fs.statSync(path.join(locks, lock)).size > 0);
    for (let tries = 0; tries < 100 && !written(); tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fs.readdirSync(locks)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    restic.kill('SIGKILL');
    await new Promise((resolve) => restic.once('exit', resolve));
    expect(fs.readdirSync(locks)).toHaveLength(1);

    const result = setup.cli('run', 'backup', setup.name);
    expect(result.stderr).not.toContain('failed');
    expect(result.stderr).toContain('the repository is locked; removing stale locks (restic unlock) and trying again');
    expect(result.exitCode).toBe(0);
    expect(fs.readdirSync(locks)).toHaveLength(0);
  });

  test(
    'a backup and a maintenance of the same repository started together both succeed, one after ' + 'the other',
    async () => {
      const setup = setupFor(tempRoot());
      setup.createRepository();
      const context = testContext(setup.root);
      const lockFile = repositoryLockFile(context.paths, await loadProfile(setup.name, context.paths));
      fs.mkdirSync(path.dirname(lockFile), { recursive: true, mode: 0o700 });
      // Held until both jobs wait for it, so that they meet on a loaded machine too (one could otherwise end before
      // the other starts); --close: the lock goes with flock itself, not with its sleep.
      const holder = spawn('flock', ['--exclusive', '--close', lockFile, 'sleep', '120']);
      const held = () => spawnSync('flock', ['--exclusive', '--nonblock', lockFile, 'true']).status !== 0;
      for (let tries = 0; tries < 100 && !held(); tries++) await new Promise((resolve) => setTimeout(resolve, 50));
      let waiting = 0;
      const start = (job: string) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, ['dist/cli.js', 'run', job, setup.name, '--root', setup.root], {
            env: { ...process.env, ...setup.env },
          });
          let stderr = '';
          child.stderr.on('data', (chunk) => {
            const before = stderr.includes('waiting up to');
            stderr += chunk;
            if (!before && stderr.includes('waiting up to') && ++waiting === 2) holder.kill();
          });
          child.on('exit', (code) => resolve({ code, stderr }));
        });
      const [backup, maintenance] = await Promise.all([start('backup'), start('maintenance')]).finally(() =>
        holder.kill(),
      );
      expect([backup.code, maintenance.code]).toEqual([0, 0]);
      expect(backup.stderr + maintenance.stderr).toContain('waiting up to 1h for the repository lock');
      expect(status(setup.root, setup.name, 'maintenance')).toMatchObject({ result: 'success' });
    },
  );

  test(
    'stopped with SIGTERM (systemctl stop), the job stops restic cleanly and records the run as interrupted ' +
      '(130), whatever restic exits with',
    async () => {
      const setup = setupFor(tempRoot());
      setup.createRepository();
      // Enough incompressible data that the backup is still running when the signal comes.
      spawnSync('dd', ['if=/dev/urandom', `of=${path.join(setup.data, 'big.bin')}`, 'bs=1M', 'count=400'], {
        stdio: 'ignore',
      });
      const locks = path.join(setup.root, 'srv/repo/locks');
      const job = spawn(process.execPath, ['dist/cli.js', '--root', setup.root, 'run', 'backup', setup.name], {
        env: { ...process.env, ...setup.env },
      });
      let stderr = '';
      job.stderr.on('data', (chunk) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => job.on('exit', (code) => resolve(code)));
      const backupStarted = () =>
        fs.existsSync(setup.argvLog) &&
        /^backup/m.test(fs.readFileSync(setup.argvLog, 'utf8')) &&
        fs.readdirSync(locks).length > 0;
      for (let tries = 0; tries < 200 && !backupStarted(); tries++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(backupStarted()).toBe(true);
      // restic cannot remove a lock file it has written but not yet registered: signal mid-backup.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      job.kill('SIGTERM');
      const code = await exited;
      expect(code).toBe(130);
      expect(stderr).toContain('received SIGTERM');
      expect(stderr).toContain('was interrupted: stopped by SIGTERM');
      expect(fs.readdirSync(locks)).toHaveLength(0);
      expect(status(setup.root, setup.name)).toMatchObject({ result: 'interrupted', exitCode: 130 });
    },
  );
});

/** restic-systemd's own behaviour around restic (its lock, files, environment): once, with Debian 13's restic. */
describe("with Debian 13's restic", () => {
  const release = RESTIC_RELEASES.find((candidate) => candidate.suite === 'trixie')!;
  const setupFor = (root: string, options: Parameters<typeof resticSetup>[1] = {}) =>
    resticSetup(root, { ...options, release });

  test('row 27: a backup restic finishes despite the signal is kept, and no retention runs after it', async () => {
    const setup = setupFor(tempRoot());
    setup.createRepository();
    // A restic that ignores the stop (an ignored signal stays ignored across exec), slow to start its backup.
    const started = path.join(setup.root, 'backup-started');
    const deaf = path.join(setup.root, 'restic-deaf');
    const script = [
      '#!/bin/sh',
      "trap '' INT TERM",
      `case " $* " in *" backup "*) touch '${started}'; sleep 1;; esac`,
      `exec '${setup.env.RESTIC_BIN}' "$@"`,
    ];
    fs.writeFileSync(deaf, `${script.join('\n')}\n`, { mode: 0o755 });
    const job = spawn(process.execPath, ['dist/cli.js', '--root', setup.root, 'run', 'backup', setup.name], {
      env: { ...process.env, ...setup.env, RESTIC_BIN: deaf },
    });
    let stderr = '';
    job.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => job.on('exit', (code) => resolve(code)));
    for (let tries = 0; tries < 200 && !fs.existsSync(started); tries++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    job.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/snapshot \w+ saved.*; the retention was not run, since SIGTERM asked the run to stop/);
    expect(fs.readFileSync(setup.argvLog, 'utf8')).not.toMatch(/^forget/m);
    expect(snapshots(setup)).toHaveLength(1);
  });

  test('a job that cannot get the repository lock in BACKUP_LOCK_WAIT exits 7 and does nothing', async () => {
    const setup = setupFor(tempRoot(), { extra: 'BACKUP_LOCK_WAIT=1s\n' });
    setup.createRepository();
    const context = testContext(setup.root);
    const lockFile = repositoryLockFile(context.paths, await loadProfile(setup.name, context.paths));
    fs.mkdirSync(path.dirname(lockFile), { recursive: true, mode: 0o700 });
    const holder = spawn('flock', ['--exclusive', lockFile, 'sleep', '30']);
    try {
      for (let tries = 0; tries < 50 && !fs.existsSync(lockFile); tries++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const result = setup.cli('run', 'backup', setup.name);
      expect(result.exitCode).toBe(7);
      expect(result.stderr).toContain('stayed locked for longer than BACKUP_LOCK_WAIT=1s');
      expect(status(setup.root, setup.name)).toMatchObject({ result: 'failure', exitCode: 7 });
      expect(snapshots(setup)).toHaveLength(0);
    } finally {
      holder.kill();
    }
  });

  test('a restic left running by a job killed with SIGKILL holds the repository lock until it ends', async () => {
    const setup = setupFor(tempRoot());
    setup.createRepository();
    const context = testContext(setup.root);
    const lockFile = repositoryLockFile(context.paths, await loadProfile(setup.name, context.paths));
    const started = path.join(setup.root, 'backup-started');
    const restic = slowRestic(path.join(setup.root, 'restic-slow'), release.binary, 'backup', started, 4);
    const job = spawn(process.execPath, ['dist/cli.js', '--root', setup.root, 'run', 'backup', setup.name], {
      env: { ...process.env, ...setup.env, RESTIC_BIN: restic },
      stdio: 'ignore',
    });
    for (let tries = 0; tries < 200 && !fs.existsSync(started); tries++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fs.existsSync(started)).toBe(true);
    job.kill('SIGKILL');
    await new Promise((resolve) => job.once('exit', resolve));
    const free = () => spawnSync('flock', ['--exclusive', '--nonblock', lockFile, 'true']).status === 0;
    expect(free()).toBe(false);
    for (let tries = 0; tries < 300 && !free(); tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(free()).toBe(true);
  });

  test('no retention rule: validate warns; the run says every snapshot is kept, not "retention applied"', () => {
    const setup = setupFor(tempRoot(), { extra: 'BACKUP_KEEP_WITHIN=\n' });
    setup.createRepository();
    const validate = setup.cli('validate', setup.name);
    expect(validate.stdout).toMatch(/warning: .*BACKUP_KEEP_WITHIN: no retention rule is left/);
    for (let run = 0; run < 2; run++) expect(setup.cli('run', 'backup', setup.name).exitCode).toBe(0);
    expect(status(setup.root, setup.name).message).toMatch(/no retention rule, so every snapshot is kept/);
    expect(snapshots(setup)).toHaveLength(2);
  });

  test('BACKUP_PATHS that do not exist: validate and install warn before the timer fails (newcomer row 13)', () => {
    const setup = setupFor(tempRoot());
    setup.createRepository();
    const profile = path.join(setup.root, 'etc/restic/myconf.conf');
    const text = fs.readFileSync(profile, 'utf8');
    fs.writeFileSync(profile, text.replace('BACKUP_PATHS=/data', 'BACKUP_PATHS=/data /srv/nope'));
    const some = setup.cli('validate', setup.name);
    expect(some.exitCode).toBe(0);
    expect(some.stdout).toMatch(
      /warning: .*myconf\.conf:\d+: BACKUP_PATHS: \/srv\/nope does not exist: .*warns \(exit 6\)/,
    );
    fs.writeFileSync(profile, text.replace('BACKUP_PATHS=/data', 'BACKUP_PATHS=/srv/nope'));
    const install = setup.cli('install', setup.name);
    expect(install.exitCode).toBe(0);
    expect(install.stderr).toMatch(/BACKUP_PATHS: \/srv\/nope does not exist: the backup fails \(exit 5\)/);
  });

  test('with the status folder full, the backup still succeeds and says the status could not be written', () => {
    const setup = setupFor(tempRoot());
    setup.createRepository();
    const state = path.join(setup.root, 'var/lib/restic-systemd');
    fs.mkdirSync(state, { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', state]).status).toBe(0);
    try {
      fs.mkdirSync(path.join(state, 'locks'));
      spawnSync('dd', ['if=/dev/zero', `of=${path.join(state, 'filler')}`, 'bs=4k']);
      const result = setup.cli('run', 'backup', setup.name);
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toContain('could not write the status file');
      expect(result.stderr).toContain('ENOSPC');
      expect(result.stderr).toMatch(/backup of myconf: snapshot \w+ saved/);
      expect(snapshots(setup)).toHaveLength(1);
    } finally {
      spawnSync('umount', [state]);
    }
  });

  test('metrics: written after every run; a failure moves the exit code but not the last success', () => {
    const setup = setupFor(tempRoot(), { extra: 'BACKUP_METRICS_DIR=/metrics\n' });
    setup.createRepository();
    expect(setup.cli('run', 'backup', setup.name).exitCode).toBe(0);
    const file = path.join(setup.root, 'metrics/restic-systemd_myconf_backup.prom');
    const read = (name: string) =>
      Number(
        new RegExp(`^${name}\\{profile="myconf",task="backup"\\} (\\S+)$`, 'm').exec(
          fs.readFileSync(file, 'utf8'),
        )?.[1],
      );
    const success = read('restic_systemd_last_success_timestamp_seconds');
    expect(success).toBeGreaterThan(Date.now() / 1000 - 120);
    expect(read('restic_systemd_last_exit_code')).toBe(0);
    // The default hourly schedule, for a monitor to judge the last success by (systemd-analyze calendar).
    expect(read('restic_systemd_schedule_interval_seconds')).toBe(3600);
    fs.writeFileSync(path.join(setup.root, 'etc/restic/myconf.password'), 'wrong\n');
    expect(setup.cli('run', 'backup', setup.name).exitCode).toBe(12);
    expect(read('restic_systemd_last_exit_code')).toBe(12);
    expect(read('restic_systemd_last_success_timestamp_seconds')).toBe(success);
  });

  test(
    'a run killed before it wrote its result (its run record left, its process gone): status and notify say so at ' +
      'once, `ended` (ExecStopPost=) writes its failed status and metrics with how systemd says it ended, once',
    () => {
      const setup = setupFor(tempRoot(), { extra: 'BACKUP_METRICS_DIR=/metrics\n' });
      setup.createRepository();
      expect(setup.cli('run', 'backup', setup.name).exitCode).toBe(0);
      const state = path.join(setup.root, 'var/lib/restic-systemd');
      const record = path.join(state, 'myconf.backup.running.json');
      const statusFile = path.join(state, 'myconf.backup.json');
      // A run removes its record once its status is written.
      expect(fs.existsSync(record)).toBe(false);
      const success = JSON.parse(fs.readFileSync(statusFile, 'utf8'));
      // What a run killed by SIGKILL leaves: its record, of a process that is gone, newer than the last status.
      const gone = spawnSync('true').pid!;
      const start = new Date(Date.now() + 1000).toISOString();
      fs.writeFileSync(record, JSON.stringify({ pid: gone, start }));

      const status = setup.cli('status', setup.name, '--json');
      expect(status.exitCode).not.toBe(0);
      const backup = JSON.parse(status.stdout).jobs.find((job: { job: string }) => job.job === 'backup');
      expect(backup).toMatchObject({ healthy: false, result: 'failure', exitCode: 5 });
      expect(backup.message).toBe(
        `the run that started ${start} ended without a result (killed, or the machine stopped)`,
      );
      expect(setup.cli('notify', `restic@${setup.name}.service`).stdout).toContain(
        'the last run of restic@myconf.service: failure (exit 5)',
      );

      const systemdSays = { SERVICE_RESULT: 'signal', EXIT_CODE: 'killed', EXIT_STATUS: 'KILL' };
      const ended = runCli(['--root', setup.root, 'ended', 'backup', setup.name], { ...setup.env, ...systemdSays });
      expect(ended.exitCode).toBe(0);
      expect(ended.stderr).toContain('ended without a result (killed by SIGKILL (SERVICE_RESULT=signal))');
      expect(fs.existsSync(record)).toBe(false);
      const written = JSON.parse(fs.readFileSync(statusFile, 'utf8'));
      expect(written).toMatchObject({ result: 'failure', exitCode: 5, start, lastSuccess: success.lastSuccess });
      expect(written.message).toContain('killed by SIGKILL');
      const metrics = fs.readFileSync(path.join(setup.root, 'metrics/restic-systemd_myconf_backup.prom'), 'utf8');
      expect(metrics).toContain('restic_systemd_last_exit_code{profile="myconf",task="backup"} 5');
      expect(metrics).toContain(
        `restic_systemd_last_run_timestamp_seconds{profile="myconf",task="backup"} ${Date.parse(written.end) / 1000}`,
      );
      // After a run that wrote its result, ended has nothing to do.
      const again = runCli(['--root', setup.root, 'ended', 'backup', setup.name], { ...setup.env, ...systemdSays });
      expect([again.exitCode, again.stderr]).toEqual([0, '']);
      expect(JSON.parse(fs.readFileSync(statusFile, 'utf8'))).toEqual(written);
      expect(setup.cli('run', 'backup', setup.name).exitCode).toBe(0);
      const after = JSON.parse(setup.cli('status', setup.name, '--json').stdout).jobs;
      expect(after.find((job: { job: string }) => job.job === 'backup')).toMatchObject({
        result: 'success',
        exitCode: 0,
      });
    },
  );

  test("exec runs a command with the profile's environment, its arguments verbatim, and exits with its code", () => {
    const setup = setupFor(tempRoot());
    const printed = setup.cli('exec', setup.name, '--', 'sh', '-c', 'echo "$RESTIC_REPOSITORY"; exit 42');
    expect(printed.exitCode).toBe(42);
    expect(printed.stdout.trim()).toBe(path.join(setup.root, 'srv/repo'));
    // Arguments reach the command as given: not taken for numbers, the cache folder under the root once.
    const verbatim = setup.cli('exec', setup.name, '--', 'printf', '%s|', '-0', '0x1f', '1e3', '007', '--', '-x');
    expect(verbatim.stdout).toBe('-0|0x1f|1e3|007|--|-x|');
    expect(setup.cli('exec', setup.name, '--', 'sh', '-c', 'echo "$RESTIC_CACHE_DIR"').stdout.trim()).toBe(
      path.join(setup.root, 'var/cache/restic-systemd'),
    );
    const noCommand = setup.cli('exec', setup.name);
    expect(noCommand.exitCode).toBe(2);
    expect(noCommand.stderr).toContain('name the command to run after --');
  });

  test('init --generate-password writes a 0600 password file once, and never replaces one', () => {
    const root = tempRoot();
    const setup = setupFor(root);
    const file = path.join(root, 'etc/restic/myconf.password');
    fs.rmSync(file);
    expect(setup.cli('init', setup.name).exitCode).toBe(3);
    const result = setup.cli('init', setup.name, '--generate-password');
    expect(result.exitCode).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const generated = fs.readFileSync(file, 'utf8');
    expect(generated.trim().length).toBeGreaterThanOrEqual(40);
    expect(result.stdout + result.stderr).not.toContain(generated.trim());
    expect(setup.cli('init', setup.name, '--generate-password').exitCode).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(generated);
  });

  test(
    'started by systemd, the job reads its profile from the environment, drop-ins included, and ignores ' +
      "systemd's own variables",
    () => {
      const setup = setupFor(tempRoot());
      setup.createRepository();
      fs.mkdirSync(path.join(setup.root, 'other'));
      fs.writeFileSync(path.join(setup.root, 'other/file.txt'), 'from the drop-in\n');
      const result = runCli(['run', 'backup', setup.name, '--root', setup.root], {
        INVOCATION_ID: 'test-invocation',
        RESTIC_REPOSITORY: '/srv/repo',
        RESTIC_PASSWORD_FILE: '/etc/restic/myconf.password',
        BACKUP_PATHS: '/other',
        // Set by systemd (NotifyAccess=) and by an operator's drop-in: not profile keys despite their prefixes.
        NOTIFY_SOCKET: '/run/systemd/notify',
        PG_DUMPALL_BIN: '/usr/bin/pg_dumpall',
      });
      expect(result.exitCode).toBe(0);
      expect(snapshots(setup)[0]!.paths).toEqual([path.join(setup.root, 'other')]);
    },
  );
});
