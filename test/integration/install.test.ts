/**
 * install / uninstall against a temp root: real files, real `systemctl --root=<temp>` and real
 * `systemd-analyze verify`; only daemon-reload and --now are recorded, as they need a booted systemd.
 */
import fs from 'node:fs';
import path from 'node:path';
import { installCommand } from '../../src/commands/install.js';
import { uninstallCommand } from '../../src/commands/uninstall.js';
import { EnvironmentError, ProfileError, UsageError } from '../../src/errors.js';
import { createRunner } from '../../src/exec/runner.js';
import { verifyUnits } from '../../src/tools/systemd-analyze.js';
import { memoryLogger } from '../../src/log.js';
import { profileServices } from '../../src/units/names.js';
import { runCli } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { allFileText, removeTempRoots, snapshotTree, tempRoot, writeProfile } from '../helpers/temp-root.js';

const PASSWORD = 'guide-password-4c1d';
const GUIDE_PROFILE = `RESTIC_REPOSITORY=/srv/restic-repo\nRESTIC_PASSWORD=${PASSWORD}\n`;
const DB_PROFILE = `RESTIC_REPOSITORY=/srv/restic-repo\nRESTIC_PASSWORD=${PASSWORD}\nPGHOST=/var/run/postgresql\n`;
const TEMPLATES = [
  'pg-backup@.service',
  'pg-backup@.timer',
  'pg-verify@.service',
  'pg-verify@.timer',
  'restic-maintenance@.service',
  'restic-maintenance@.timer',
  'restic-notify@.service',
  'restic@.service',
  'restic@.timer',
];

const unitDir = (root: string) => path.join(root, 'etc/systemd/system');
const exists = (root: string, relative: string) => fs.existsSync(path.join(unitDir(root), relative));
const isLink = (root: string, relative: string) => {
  try {
    return fs.lstatSync(path.join(unitDir(root), relative)).isSymbolicLink();
  } catch {
    return false;
  }
};

/** The systemctl calls that change something (is-enabled and show only ask). */
const changingCalls = (calls: readonly string[]) =>
  calls.filter((call) => !call.includes('is-enabled') && !call.startsWith('systemctl show'));

afterAll(removeTempRoots);

describe("the guide's profile installed with --root, as a new user would", () => {
  const root = tempRoot();
  writeProfile(root, 'myconf', GUIDE_PROFILE);
  // The guide's default path, there as on the guide's machine: a missing one is a warning (path-warnings.ts).
  fs.mkdirSync(path.join(root, 'media/myconf'), { recursive: true });
  let first: ReturnType<typeof runCli>;

  beforeAll(() => {
    first = runCli(['install', 'myconf', '--root', root, '--json']);
  });

  test('writes the templates and the drop-ins, enables the backup and maintenance timers and says changed', () => {
    // The repository is not made yet: installed anyway, with the warning that the timers will fail until it is.
    const noRepository =
      'myconf: its timers will fail until this is fixed (restic-systemd validate myconf checks again): the ' +
      'repository check (restic cat config) failed: there is no repository at RESTIC_REPOSITORY';
    expect(first.stderr).toContain(`warning: ${noRepository}`);
    expect(first.exitCode).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report).toEqual({
      warnings: [expect.stringContaining(noRepository)],
      changed: true,
      written: [
        ...TEMPLATES.map((unit) => `/etc/systemd/system/${unit}`),
        '/etc/systemd/system/restic-maintenance@myconf.service.d/50-restic-systemd.conf',
        '/etc/systemd/system/restic-maintenance@myconf.timer.d/50-restic-systemd.conf',
        '/etc/systemd/system/restic@myconf.service.d/50-restic-systemd.conf',
        '/etc/systemd/system/restic@myconf.timer.d/50-restic-systemd.conf',
      ]
        .sort()
        .concat('/etc/systemd/system-generators/restic-systemd'),
      removed: [],
      enabled: ['restic@myconf.timer', 'restic-maintenance@myconf.timer'],
      disabled: [],
    });
    expect(fs.readlinkSync(path.join(unitDir(root), 'timers.target.wants/restic@myconf.timer'))).toBe(
      '/etc/systemd/system/restic@.timer',
    );
    expect(exists(root, 'pg-backup@myconf.timer.d')).toBe(false);
  });

  test('unit files are world-readable and hold no password', () => {
    expect(allFileText(unitDir(root))).not.toContain(PASSWORD);
    for (const unit of TEMPLATES) expect(fs.statSync(path.join(unitDir(root), unit)).mode & 0o777).toBe(0o644);
  });

  test('every unit passes systemd-analyze verify without a word', async () => {
    const units = ['restic', 'restic-maintenance', 'pg-backup'].flatMap((family) => [
      `${family}@myconf.service`,
      `${family}@myconf.timer`,
    ]);
    const complaints = await verifyUnits(
      createRunner(memoryLogger()),
      units.map((unit) => path.join(unitDir(root), unit)),
    );
    expect(complaints).toBe('');
  });

  test('the same command again says changed: false and rewrites nothing', () => {
    const before = snapshotTree(root);
    const again = runCli(['install', 'myconf', '--root', root, '--json']);
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      changed: false,
      written: [],
      removed: [],
      enabled: [],
      disabled: [],
      warnings: [expect.stringContaining('its timers will fail until this is fixed')],
    });
    expect(snapshotTree(root)).toEqual(before);
  });

  test("the generator is an executable of ours that runs this CLI's generate with the config folder", () => {
    const generator = path.join(root, 'etc/systemd/system-generators/restic-systemd');
    expect(fs.statSync(generator).mode & 0o777).toBe(0o755);
    expect(fs.readFileSync(generator, 'utf8')).toMatch(
      new RegExp(
        String.raw`^#!/bin/sh\n# Managed by restic-systemd[^\n]*\n[\s\S]*\n` +
          String.raw`exec \S+node \S+cli\.js --config-dir /etc/restic generate "\$@"\n$`,
      ),
    );
  });

  test('uninstall --purge leaves no unit, link, drop-in or generator behind, and keeps the profile', () => {
    const result = runCli(['uninstall', 'myconf', '--purge', '--root', root, '--json']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      changed: true,
      disabled: ['restic@myconf.timer', 'restic-maintenance@myconf.timer'],
    });
    const left = fs
      .readdirSync(path.join(root, 'etc/systemd'), { recursive: true, encoding: 'utf8' })
      .filter((entry) => !fs.statSync(path.join(root, 'etc/systemd', entry)).isDirectory());
    expect(left).toEqual([]);
    expect(fs.existsSync(path.join(root, 'etc/restic/myconf.conf'))).toBe(true);
  });
});

test(
  'a database profile without BACKUP_PATHS gets the pg-backup@ and maintenance timers and no file backup that ' +
    'could only fail; they verify silently',
  async () => {
    const root = tempRoot();
    writeProfile(root, 'db', DB_PROFILE);
    const context = testContext(root);
    const report = await installCommand(context, ['db']);
    expect(report.enabled.sort()).toEqual(['pg-backup@db.timer', 'restic-maintenance@db.timer']);
    expect(isLink(root, 'timers.target.wants/pg-backup@db.timer')).toBe(true);
    expect(isLink(root, 'timers.target.wants/restic@db.timer')).toBe(false);
    expect(fs.existsSync(path.join(unitDir(root), 'restic@db.timer.d'))).toBe(false);
    const units = ['restic-maintenance', 'pg-backup'].flatMap((family) =>
      ['service', 'timer'].map((type) => path.join(unitDir(root), `${family}@db.${type}`)),
    );
    expect(await verifyUnits(context.runner, units)).toBe('');
    const serviceDropIn = fs.readFileSync(
      path.join(unitDir(root), 'pg-backup@db.service.d/50-restic-systemd.conf'),
      'utf8',
    );
    expect(serviceDropIn).toContain('ReadWritePaths=-/srv/restic-repo');
  },
);

test('the same database profile with BACKUP_PATHS also gets the file backup timer', async () => {
  const root = tempRoot();
  writeProfile(root, 'db', `${DB_PROFILE}BACKUP_PATHS=/etc\n`);
  const report = await installCommand(testContext(root), ['db']);
  expect(report.enabled.sort()).toEqual(['pg-backup@db.timer', 'restic-maintenance@db.timer', 'restic@db.timer']);
});

test('the restore drill timer is installed only when the profile sets PG_VERIFY_SCHEDULE', async () => {
  const root = tempRoot();
  writeProfile(root, 'db', `${DB_PROFILE}PG_VERIFY_SCHEDULE=Sun 04:00\n`);
  const report = await installCommand(testContext(root), ['db']);
  expect(report.enabled).toContain('pg-verify@db.timer');
  expect(fs.readFileSync(path.join(unitDir(root), 'pg-verify@db.timer.d/50-restic-systemd.conf'), 'utf8')).toContain(
    'OnCalendar=Sun 04:00\n',
  );
  expect(
    await verifyUnits(
      testContext(root).runner,
      ['service', 'timer'].map((type) => path.join(unitDir(root), `pg-verify@db.${type}`)),
    ),
  ).toBe('');
});

describe('on a host where systemd runs (recorded daemon-reload and --now)', () => {
  test('install reloads once, then enables and starts the timer', async () => {
    const root = tempRoot();
    writeProfile(root, 'myconf', GUIDE_PROFILE);
    const context = testContext(root, { online: true });
    await installCommand(context, ['myconf']);
    expect(changingCalls(context.calls)).toEqual([
      'systemctl daemon-reload',
      'systemctl enable --now restic@myconf.timer restic-maintenance@myconf.timer',
    ]);
    expect(isLink(root, 'timers.target.wants/restic@myconf.timer')).toBe(true);
  });

  test('an unchanged re-install neither reloads nor enables', async () => {
    const root = tempRoot();
    writeProfile(root, 'myconf', GUIDE_PROFILE);
    await installCommand(testContext(root, { online: true }), ['myconf']);
    const context = testContext(root, { online: true });
    const report = await installCommand(context, ['myconf']);
    expect(report.changed).toBe(false);
    expect(changingCalls(context.calls)).toEqual([]);
  });

  test(
    "a changed schedule rewrites only that job's drop-ins (the timer's, and the settings its service records), " +
      'then reloads',
    async () => {
      const root = tempRoot();
      writeProfile(root, 'myconf', GUIDE_PROFILE);
      await installCommand(testContext(root, { online: true }), ['myconf']);
      writeProfile(root, 'myconf', `${GUIDE_PROFILE}BACKUP_SCHEDULE=*:0/15\n`);
      const context = testContext(root, { online: true });
      const report = await installCommand(context, ['myconf']);
      expect(report.written).toEqual([
        '/etc/systemd/system/restic@myconf.service.d/50-restic-systemd.conf',
        '/etc/systemd/system/restic@myconf.timer.d/50-restic-systemd.conf',
      ]);
      expect(changingCalls(context.calls)).toEqual(['systemctl daemon-reload']);
      expect(
        fs.readFileSync(path.join(unitDir(root), 'restic@myconf.timer.d/50-restic-systemd.conf'), 'utf8'),
      ).toContain('OnCalendar=*:0/15\n');
    },
  );

  test(
    'a profile that no longer has a database loses its pg-backup@ and pg-verify@ drop-ins and ' + 'its timer',
    async () => {
      const root = tempRoot();
      writeProfile(root, 'db', DB_PROFILE);
      await installCommand(testContext(root, { online: true }), ['db']);
      writeProfile(root, 'db', GUIDE_PROFILE);
      const context = testContext(root, { online: true });
      const report = await installCommand(context, ['db']);
      expect(report.removed.sort()).toEqual([
        '/etc/systemd/system/pg-backup@db.service.d/50-restic-systemd.conf',
        '/etc/systemd/system/pg-backup@db.timer.d/50-restic-systemd.conf',
        '/etc/systemd/system/pg-verify@db.service.d/50-restic-systemd.conf',
      ]);
      expect(report.disabled).toEqual(['pg-backup@db.timer']);
      expect(context.calls).toContain('systemctl disable --now pg-backup@db.timer');
      expect(exists(root, 'pg-backup@db.timer.d')).toBe(false);
      expect(isLink(root, 'timers.target.wants/pg-backup@db.timer')).toBe(false);
    },
  );

  test('uninstall disables and stops the timer and reloads', async () => {
    const root = tempRoot();
    writeProfile(root, 'myconf', GUIDE_PROFILE);
    await installCommand(testContext(root, { online: true }), ['myconf']);
    const context = testContext(root, { online: true });
    await uninstallCommand(context, ['myconf'], false);
    expect(changingCalls(context.calls)).toEqual([
      'systemctl disable --now restic@myconf.timer restic-maintenance@myconf.timer',
      'systemctl daemon-reload',
      `systemctl list-units --state=failed --plain --no-legend --full ${profileServices('myconf').join(' ')}`,
    ]);
  });
});

test('without --root on a host where systemd is not running, install refuses before writing', async () => {
  const root = tempRoot();
  writeProfile(root, 'myconf', GUIDE_PROFILE);
  const before = snapshotTree(root);
  const context = testContext(root, { online: true, systemdBooted: false });
  await expect(installCommand(context, ['myconf'])).rejects.toThrow(EnvironmentError);
  await expect(installCommand(context, ['myconf'])).rejects.toThrow(/use --root|--root DIR/);
  expect(context.calls).toEqual([]);
  expect(snapshotTree(root)).toEqual(before);
});

test('the real CLI without --root on this host (no systemd running) exits 4 and writes nothing', () => {
  const result = runCli(['install', 'myconf', '--config-dir', '/nonexistent']);
  if (fs.existsSync('/run/systemd/system'))
    throw new Error('this test expects a host whose PID 1 is not systemd (CI and developer machines)');
  expect(result.exitCode).toBe(4);
  expect(result.stderr).toContain('systemd is not running on this host');
});

test('if one of several profiles is invalid, nothing is written for any of them', async () => {
  const root = tempRoot();
  writeProfile(root, 'good', GUIDE_PROFILE);
  writeProfile(root, 'bad', 'RESTIC_REPOSITORY=/srv/r\nBACKUP_SCHEDULE=never ever\n');
  const before = snapshotTree(root);
  const error = await installCommand(testContext(root), ['good', 'bad']).catch((caught) => caught);
  expect(error).toBeInstanceOf(ProfileError);
  expect((error as ProfileError).issues.map((issue) => issue.key)).toEqual(['BACKUP_SCHEDULE', 'RESTIC_PASSWORD_FILE']);
  expect(snapshotTree(root)).toEqual(before);
});

test('a unit file that restic-systemd did not write is never replaced', async () => {
  const root = tempRoot();
  writeProfile(root, 'myconf', GUIDE_PROFILE);
  fs.mkdirSync(unitDir(root), { recursive: true });
  fs.writeFileSync(path.join(unitDir(root), 'restic@.service'), '[Service]\nExecStart=/usr/bin/restic backup /home\n');
  const before = snapshotTree(root);
  const error = await installCommand(testContext(root), ['myconf']).catch((caught) => caught);
  expect(error).toBeInstanceOf(EnvironmentError);
  expect(error.message).toContain('/etc/systemd/system/restic@.service');
  expect(error.message).toContain('man restic-systemd: import');
  expect(snapshotTree(root)).toEqual(before);
});

test(
  'uninstall keeps the templates and the generator for the other profiles; --purge removes them, and is refused ' +
    'while another profile uses them',
  async () => {
    const root = tempRoot();
    writeProfile(root, 'one', GUIDE_PROFILE);
    writeProfile(root, 'two', GUIDE_PROFILE);
    await installCommand(testContext(root), ['one', 'two']);
    await expect(uninstallCommand(testContext(root), ['one'], true)).rejects.toThrow(UsageError);
    const report = await uninstallCommand(testContext(root), ['one'], false);
    expect(report.removed.sort()).toEqual([
      '/etc/systemd/system/restic-maintenance@one.service.d/50-restic-systemd.conf',
      '/etc/systemd/system/restic-maintenance@one.timer.d/50-restic-systemd.conf',
      '/etc/systemd/system/restic@one.service.d/50-restic-systemd.conf',
      '/etc/systemd/system/restic@one.timer.d/50-restic-systemd.conf',
    ]);
    for (const unit of TEMPLATES) expect(exists(root, unit)).toBe(true);
    expect(isLink(root, 'timers.target.wants/restic@two.timer')).toBe(true);
    // A profile whose timer was enabled by hand (the guide's flow) also uses the templates.
    fs.symlinkSync(
      '/etc/systemd/system/restic@.timer',
      path.join(unitDir(root), 'timers.target.wants/restic@guide.timer'),
    );
    await expect(uninstallCommand(testContext(root), ['two'], true)).rejects.toThrow(/these profiles still use: guide/);
    fs.rmSync(path.join(unitDir(root), 'timers.target.wants/restic@guide.timer'));
    const last = await uninstallCommand(testContext(root), ['two'], false);
    for (const unit of TEMPLATES) expect(exists(root, unit)).toBe(true);
    const purged = await uninstallCommand(testContext(root), ['two'], true);
    expect(purged.removed.sort()).toEqual(
      [
        ...TEMPLATES.map((unit) => `/etc/systemd/system/${unit}`),
        '/etc/systemd/system-generators/restic-systemd',
      ].sort(),
    );
    expect(last.removed).toHaveLength(4);
  },
);

test('uninstall never touches files it did not write, even in its own drop-in folders', async () => {
  const root = tempRoot();
  writeProfile(root, 'myconf', GUIDE_PROFILE);
  await installCommand(testContext(root), ['myconf']);
  fs.writeFileSync(path.join(unitDir(root), 'restic@myconf.service.d/60-local.conf'), '[Service]\nNice=5\n');
  await uninstallCommand(testContext(root), ['myconf'], false);
  expect(exists(root, 'restic@myconf.service.d/60-local.conf')).toBe(true);
  expect(exists(root, 'restic@myconf.service.d/50-restic-systemd.conf')).toBe(false);
});

test('uninstall of a profile that was never installed changes nothing and exits 0', () => {
  const root = tempRoot();
  const result = runCli(['uninstall', 'ghost', '--root', root]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain('unchanged');
});

test('render prints every file install would write and touches nothing', () => {
  const root = tempRoot();
  writeProfile(root, 'myconf', GUIDE_PROFILE);
  const before = snapshotTree(root);
  const result = runCli(['render', 'myconf', '--root', root]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain('# ==> /etc/systemd/system/restic@.service <==');
  expect(result.stdout).toContain('# ==> /etc/systemd/system/restic@myconf.timer.d/50-restic-systemd.conf <==');
  expect(result.stdout).not.toContain(PASSWORD);
  expect(snapshotTree(root)).toEqual(before);
});

test('render --out writes the files into the folder given', () => {
  const root = tempRoot();
  writeProfile(root, 'myconf', GUIDE_PROFILE);
  const out = path.join(tempRoot(), 'units');
  const result = runCli(['render', 'myconf', '--root', root, '--out', out]);
  expect(result.exitCode).toBe(0);
  expect(fs.readdirSync(out).sort()).toEqual(
    [
      ...TEMPLATES,
      'restic-maintenance@myconf.service.d',
      'restic-maintenance@myconf.timer.d',
      'restic@myconf.service.d',
      'restic@myconf.timer.d',
    ].sort(),
  );
});

test('an unknown command or a missing argument exits 2 with usage help', () => {
  expect(runCli(['frobnicate']).exitCode).toBe(2);
  const missing = runCli(['install']);
  expect(missing.exitCode).toBe(2);
  expect(missing.stderr).toContain('Not enough non-option arguments');
});
