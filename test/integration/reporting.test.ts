/** status, list and validate, against real restic, real systemctl --root and systemd-analyze. */
import fs from 'node:fs';
import path from 'node:path';
import { setupCommand } from '../../src/commands/setup.js';
import { runCli } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { resticSetup, snapshots } from '../helpers/restic.js';
import { RESTIC_RELEASES } from '../helpers/restic-versions.js';
import { removeTempRoots, tempRoot, writeProfile } from '../helpers/temp-root.js';

afterAll(removeTempRoots);

describe('a profile installed under --root, as a new user would', () => {
  const setup = resticSetup(tempRoot(), { name: 'demo' });

  beforeAll(() => {
    expect(setup.cli('init', 'demo').exitCode).toBe(0);
    expect(setup.cli('install', 'demo').exitCode).toBe(0);
  });

  test('validate accepts it, naming the restic version', () => {
    const result = setup.cli('validate', 'demo');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^demo: valid \(restic \d+\.\d+\.\d+, repository reachable, units verified\)$/m);
  });

  test('list --json shows it installed, enabled and healthy', () => {
    const result = setup.cli('list', '--json');
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        name: 'demo',
        installed: true,
        enabled: true,
        enabledJobs: { backup: true, maintenance: true },
        healthy: true,
        problems: [],
      },
    ]);
  });

  test('after run backup, status --json shows the successful last run and its snapshot', () => {
    expect(setup.cli('run', 'backup', 'demo').exitCode).toBe(0);
    const result = setup.cli('status', 'demo', '--json');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    const backup = report.jobs.find((job: { job: string }) => job.job === 'backup');
    expect(backup).toMatchObject({
      profile: 'demo',
      healthy: true,
      result: 'success',
      exitCode: 0,
      repository: '/srv/repo',
      schedule: 'hourly',
    });
    // The full ID, and the short one tables print.
    expect(backup.snapshot).toBe(snapshots(setup)[0]!.id);
    expect(backup.snapshotShort).toBe(snapshots(setup)[0]!.short_id);
    expect(setup.cli('status', 'demo').stdout).toMatch(new RegExp(`\\s${snapshots(setup)[0]!.short_id}\\s`));
    expect(report.healthy).toBe(true);
  });

  test('status exits 8 and names the job after a failed run, keeping the last good snapshot', () => {
    const good = JSON.parse(setup.cli('status', 'demo', '--json').stdout).jobs[0].snapshot;
    fs.writeFileSync(path.join(setup.root, 'etc/restic/demo.password'), 'wrong\n');
    expect(setup.cli('run', 'backup', 'demo').exitCode).toBe(12);
    const result = setup.cli('status');
    expect(result.exitCode).toBe(8);
    expect(result.stdout).toMatch(/demo\s+backup\s+.*failure\s+12\s+/);
    expect(result.stderr).toContain('demo/backup');
    expect(JSON.parse(setup.cli('status', '--json').stdout).jobs[0].snapshot).toBe(good);
    expect(JSON.parse(setup.cli('list', '--json').stdout)[0]).toMatchObject({ healthy: false });
    fs.writeFileSync(path.join(setup.root, 'etc/restic/demo.password'), `${setup.password}\n`);
  });

  test('validate names a wrong password and says what to check', () => {
    fs.writeFileSync(path.join(setup.root, 'etc/restic/demo.password'), 'wrong\n');
    const result = setup.cli('validate', 'demo');
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toContain('wrong password or no key found: check RESTIC_PASSWORD_FILE');
    fs.writeFileSync(path.join(setup.root, 'etc/restic/demo.password'), `${setup.password}\n`);
  });
});

test('a last success older than twice the schedule makes status fail', () => {
  const setup = resticSetup(tempRoot(), { name: 'old' });
  expect(setup.cli('install', 'old').exitCode).toBe(0);
  const state = path.join(setup.root, 'var/lib/restic-systemd');
  fs.mkdirSync(state, { recursive: true });
  const threeHoursAgo = new Date(Date.now() - 3 * 3600 * 1000).toISOString();
  fs.writeFileSync(
    path.join(state, 'old.backup.json'),
    JSON.stringify({
      profile: 'old',
      job: 'backup',
      result: 'success',
      exitCode: 0,
      message: '',
      start: threeHoursAgo,
      end: threeHoursAgo,
      durationSeconds: 1,
      lastSuccess: threeHoursAgo,
      lastSnapshot: null,
    }),
  );
  const result = setup.cli('status', 'old');
  expect(result.exitCode).toBe(8);
  expect(result.stdout).toContain('last run 3h ago, more than twice its schedule (hourly)');
});

test('validate rejects an empty repository and an invalid schedule, naming the schedule', () => {
  const root = tempRoot();
  writeProfile(
    root,
    'broken',
    'RESTIC_REPOSITORY=\nRESTIC_PASSWORD=some-password-1\nBACKUP_SCHEDULE=every full moon\n',
  );
  const result = resticSetup(root, { name: 'unused' }).cli('validate', 'broken');
  expect(result.exitCode).toBe(3);
  expect(result.stdout).toContain('RESTIC_REPOSITORY: is empty');
  expect(result.stdout).toContain('BACKUP_SCHEDULE: "every full moon" is not a valid systemd calendar expression');
});

test(
  "validate and every job refuse a restic older than the oldest supported release (Debian 12's 0.14), " + 'naming it',
  () => {
    const setup = resticSetup(tempRoot(), { name: 'ancient' });
    setup.createRepository();
    const fake = path.join(setup.root, 'restic-0.9.6');
    fs.writeFileSync(
      fake,
      '#!/bin/sh\n[ "$1" = version ] && { echo "restic 0.9.6 compiled with go1.13 on linux/amd64"; exit 0; }\nexit 1\n',
      { mode: 0o755 },
    );
    const validate = runCli(['--root', setup.root, 'validate', 'ancient'], { RESTIC_BIN: fake });
    expect(validate.exitCode).toBe(3);
    expect(validate.stdout).toContain('restic 0.9.6 is not supported: restic-systemd needs restic 0.14.0 or newer');
    const run = runCli(['--root', setup.root, 'run', 'backup', 'ancient'], { RESTIC_BIN: fake });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain('restic 0.9.6 is not supported');
  },
);

describe('setup, as a new user would', () => {
  const root = tempRoot();
  const run = (...args: string[]) => runCli(['--root', root, ...args]);

  test('setup demo --root $T --path $T/data: a 0600 profile, a repository with one snapshot, an enabled timer', () => {
    fs.mkdirSync(path.join(root, 'data'));
    fs.writeFileSync(path.join(root, 'data/file.txt'), 'data\n');
    const result = run('setup', 'demo', '--path', path.join(root, 'data'));
    expect(result.stderr).not.toContain('error');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(
      `to restore: restic-systemd --root ${root} restore demo --path ${path.join(root, 'data').slice(root.length)}`,
    );
    const profile = path.join(root, 'etc/restic/demo.conf');
    expect(fs.statSync(profile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(profile, 'utf8')).toBe(
      'RESTIC_REPOSITORY=/var/lib/restic/demo\nRESTIC_PASSWORD_FILE=/etc/restic/demo.password\nBACKUP_PATHS=/data\n',
    );
    expect(fs.statSync(path.join(root, 'etc/restic/demo.password')).mode & 0o777).toBe(0o600);
    expect(fs.readlinkSync(path.join(root, 'etc/systemd/system/timers.target.wants/restic@demo.timer'))).toBe(
      '/etc/systemd/system/restic@.timer',
    );
    const listed = JSON.parse(run('exec', 'demo', '--', 'restic', 'snapshots', '--json').stdout);
    expect(listed).toHaveLength(1);
    expect(listed[0].paths).toEqual([path.join(root, 'data')]);
  });

  test('then list shows demo, validate accepts it, and status shows the run', () => {
    expect(JSON.parse(run('list', '--json').stdout)).toEqual([
      {
        name: 'demo',
        installed: true,
        enabled: true,
        enabledJobs: { backup: true, maintenance: true },
        healthy: true,
        problems: [],
      },
    ]);
    expect(run('validate', 'demo').exitCode).toBe(0);
    expect(run('run', 'backup', 'demo').exitCode).toBe(0);
    const status = JSON.parse(run('status', 'demo', '--json').stdout);
    expect(status.jobs[0]).toMatchObject({ job: 'backup', result: 'success', healthy: true });
    expect(status.jobs[0].snapshot).toMatch(/^[0-9a-f]{64}$/);
    expect(status.jobs[0].snapshotShort).toBe(status.jobs[0].snapshot.slice(0, 8));
  });

  test('setup refuses to overwrite an existing profile, and changes nothing', () => {
    const before = fs.readFileSync(path.join(root, 'etc/restic/demo.conf'), 'utf8');
    const again = run('setup', 'demo', '--path', path.join(root, 'data'));
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('exists already; nothing was changed');
    expect(fs.readFileSync(path.join(root, 'etc/restic/demo.conf'), 'utf8')).toBe(before);
  });
});

test('setup on a host without a running systemd does the rest and says what is left', async () => {
  const root = tempRoot();
  fs.mkdirSync(path.join(root, 'data'));
  fs.writeFileSync(path.join(root, 'data/file.txt'), 'data\n');
  const context = testContext(root, { online: true, systemdBooted: false });
  await setupCommand(context, 'nosystemd', { path: path.join(root, 'data'), force: false });
  const printed = context.output.join('\n');
  expect(printed).toContain('left to do: install the units where systemd runs: restic-systemd install nosystemd');
  expect(printed).toMatch(/first backup: snapshot \w+ saved/);
  expect(fs.existsSync(path.join(root, 'etc/systemd/system'))).toBe(false);
});

/** Issue 28 and the newcomer rows 4–7, 11, 21, 22, 32 and 33: what a monitor reads is the truth. */
describe('a status that tells the truth', () => {
  const state = (root: string) => path.join(root, 'var/lib/restic-systemd');
  const writeStatusFile = (root: string, name: string, job: string, fields: Record<string, unknown>) => {
    fs.mkdirSync(state(root), { recursive: true });
    const now = new Date().toISOString();
    fs.writeFileSync(
      path.join(state(root), `${name}.${job}.json`),
      JSON.stringify({ profile: name, job, message: '', start: now, end: now, durationSeconds: 1, ...fields }),
    );
  };

  test('row 7: a --root that is not a folder exits 4, and nothing to check exits 3, for status and list', () => {
    const file = path.join(tempRoot(), 'a-file');
    fs.writeFileSync(file, '');
    for (const command of ['status', 'list']) {
      for (const root of [file, path.join(tempRoot(), 'missing')]) {
        const result = runCli(['--root', root, command]);
        expect({ command, root, exitCode: result.exitCode }).toEqual({ command, root, exitCode: 4 });
        expect(result.stderr).toContain('is not a folder');
      }
      const empty = runCli(['--root', tempRoot(), command]);
      expect(empty.exitCode).toBe(3);
      expect(empty.stderr).toContain('nothing to check');
    }
    expect(runCli(['--root', tempRoot(), 'validate']).exitCode).toBe(3);
  });

  test('rows 5, 6 and 21: list shows every profile, enabled per job; not installed is said, and no fault', () => {
    const setup = resticSetup(tempRoot(), { name: 'data' });
    expect(setup.init().exitCode).toBe(0);
    expect(setup.cli('install', 'data').exitCode).toBe(0);
    writeProfile(setup.root, 'extra', fs.readFileSync(path.join(setup.root, 'etc/restic/data.conf'), 'utf8'));
    fs.rmSync(path.join(setup.root, 'etc/systemd/system/timers.target.wants/restic-maintenance@data.timer'));
    const listed = JSON.parse(setup.cli('list', '--json').stdout);
    expect(listed).toEqual([
      expect.objectContaining({
        name: 'data',
        installed: true,
        enabled: false,
        enabledJobs: { backup: true, maintenance: false },
      }),
      expect.objectContaining({ name: 'extra', installed: false, enabled: false }),
    ]);
    expect(setup.cli('list').stdout).toMatch(/data\s+yes\s+only backup\s+/);
    const status = setup.cli('status');
    expect(status.stdout).toMatch(/extra\s+-\s+.*not installed \(restic-systemd install extra schedules it\)/);
    // Uninstalled on purpose: the same whether or not another profile is installed.
    expect(setup.cli('uninstall', 'data').exitCode).toBe(0);
    const after = setup.cli('status');
    expect(after.exitCode).toBe(0);
    expect(after.stdout).toMatch(/data\s+-\s+.*not installed/);
  });

  test('rows 11 and 22: why a run failed, in PROBLEM and --json; a damaged status file is unhealthy', () => {
    const setup = resticSetup(tempRoot(), { name: 'photos' });
    expect(setup.init().exitCode).toBe(0);
    expect(setup.cli('install', 'photos').exitCode).toBe(0);
    fs.writeFileSync(path.join(setup.root, 'etc/restic/photos.password'), 'wrong\n');
    expect(setup.cli('run', 'backup', 'photos').exitCode).toBe(12);
    const status = setup.cli('status', 'photos');
    expect(status.stdout).toMatch(/last run: failure \(exit 12\): .*password/);
    const backup = JSON.parse(setup.cli('status', 'photos', '--json').stdout).jobs[0];
    expect(backup.message).toMatch(/password/);
    fs.writeFileSync(path.join(state(setup.root), 'photos.backup.json'), '{garbage');
    const damaged = setup.cli('status', 'photos');
    expect(damaged.exitCode).toBe(8);
    expect(damaged.stdout).toContain('photos.backup.json is not a status file restic-systemd wrote');
  });

  test("row 32: validate warns of a restic variable that Debian 12's restic 0.14 does not read", () => {
    const release = RESTIC_RELEASES.find((candidate) => candidate.suite === 'bookworm')!;
    const setup = resticSetup(tempRoot(), { name: 'old', release, extra: 'RESTIC_READ_CONCURRENCY=4\n' });
    expect(setup.init().exitCode).toBe(0);
    const result = setup.cli('validate', 'old');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/warning: .*old\.conf: RESTIC_READ_CONCURRENCY: restic 0\.14\.\d+ does not read it/);
  });

  test('row 33: the last restore drill is shown whenever it ran, scheduled or not', () => {
    const setup = resticSetup(tempRoot(), { name: 'db', extra: 'PGHOST=/var/run/postgresql\nPGPORT=1\n' });
    writeStatusFile(setup.root, 'db', 'pg-verify', { result: 'success', exitCode: 0, recoverySeconds: 12.5 });
    const result = setup.cli('status', 'db', '--json');
    const drill = JSON.parse(result.stdout).jobs.find((job: { job: string }) => job.job === 'pg-verify');
    expect(drill).toMatchObject({ result: 'success', recoverySeconds: 12.5 });
    expect(setup.cli('status', 'db').stdout).toContain('restore drill of db');
  });

  test('rows 4 and 32: install warns (--json too) of a timer bound to fail; validate checks all, databases too', () => {
    const setup = resticSetup(tempRoot(), { name: 'c24' });
    expect(setup.init().exitCode).toBe(0);
    fs.writeFileSync(path.join(setup.root, 'etc/restic/c24.password'), 'wrong\n');
    const installed = runCli(['--root', setup.root, '--json', 'install', 'c24'], setup.env);
    expect(installed.exitCode).toBe(0);
    expect(JSON.parse(installed.stdout).warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/^c24: its timers will fail until this is fixed .*password/)]),
    );
    writeProfile(
      setup.root,
      'db',
      `${fs.readFileSync(path.join(setup.root, 'etc/restic/c24.conf'), 'utf8')}PGHOST=127.0.0.1\nPGPORT=1\n`,
    );
    const validated = setup.cli('validate');
    expect(validated.exitCode).toBe(3);
    expect(validated.stdout).toMatch(/^c24: \d problem/m);
    expect(validated.stdout).toMatch(
      /the database check \(psql, SELECT pg_is_in_recovery\(\) on 127\.0\.0\.1 port 1\) failed/,
    );
  });
});
