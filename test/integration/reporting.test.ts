/** status, list and validate, against real restic, real systemctl --root and systemd-analyze. */
import fs from 'node:fs';
import path from 'node:path';
import { resticSetup, snapshots } from '../helpers/restic.js';
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
    expect(JSON.parse(result.stdout)).toEqual([{ name: 'demo', installed: true, enabled: true, healthy: true, problems: [] }]);
  });

  test('after run backup, status --json shows the successful last run and its snapshot', () => {
    expect(setup.cli('run', 'backup', 'demo').exitCode).toBe(0);
    const result = setup.cli('status', 'demo', '--json');
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    const backup = report.jobs.find((job: { job: string }) => job.job === 'backup');
    expect(backup).toMatchObject({ profile: 'demo', healthy: true, result: 'success', exitCode: 0, repository: '/srv/repo', schedule: 'hourly' });
    expect(backup.snapshot).toBe(snapshots(setup)[0]!.short_id);
    expect(report.healthy).toBe(true);
  });

  test('status exits 8 and names the job after a failed run, keeping the last good snapshot', () => {
    const good = JSON.parse(setup.cli('status', 'demo', '--json').stdout).jobs[0].snapshot;
    fs.writeFileSync(path.join(setup.root, 'etc/restic/demo.password'), 'wrong\n');
    expect(setup.cli('run', 'backup', 'demo').exitCode).toBe(5);
    const result = setup.cli('status');
    expect(result.exitCode).toBe(8);
    expect(result.stdout).toMatch(/demo\s+backup\s+.*failure\s+5\s+/);
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
  const state = path.join(setup.root, 'var/lib/restic-systemd');
  fs.mkdirSync(state, { recursive: true });
  const threeHoursAgo = new Date(Date.now() - 3 * 3600 * 1000).toISOString();
  fs.writeFileSync(path.join(state, 'old.backup.json'), JSON.stringify({ profile: 'old', job: 'backup', result: 'success', exitCode: 0, message: '', start: threeHoursAgo, end: threeHoursAgo, durationSeconds: 1, lastSuccess: threeHoursAgo, lastSnapshot: null }));
  const result = setup.cli('status', 'old');
  expect(result.exitCode).toBe(8);
  expect(result.stdout).toContain('more than twice its schedule (hourly)');
});

test('validate rejects an empty repository and an invalid schedule, naming the schedule', () => {
  const root = tempRoot();
  writeProfile(root, 'broken', 'RESTIC_REPOSITORY=\nRESTIC_PASSWORD=some-password-1\nBACKUP_SCHEDULE=every full moon\n');
  const result = resticSetup(root, { name: 'unused' }).cli('validate', 'broken');
  expect(result.exitCode).toBe(3);
  expect(result.stdout).toContain('RESTIC_REPOSITORY: is empty');
  expect(result.stdout).toContain('BACKUP_SCHEDULE: "every full moon" is not a valid systemd calendar expression');
});
