/**
 * The security review's findings about files (docs/security.md): each reproduction run again
 * against the real CLI, with a real second account (nobody) as the adversary where there is one.
 * F1 symlinks in a folder of another account, F7 a refused name, F9 setup's .conf.old, F10 install
 * racing uninstall, F11 links of a --root image, F12 /tmp in what operators are told to run,
 * F13 control characters in options, F14 odd input that must end in a clean error.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT, runCli, runCliAsync } from '../helpers/cli.js';
import { createRepository, resticSetup, snapshots } from '../helpers/restic.js';
import { RESTIC_RELEASES } from '../helpers/restic-versions.js';
import { removeTempRoots, snapshotTree, tempRoot, writeProfile } from '../helpers/temp-root.js';

const PROFILE = 'RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_FILE=/etc/restic/myconf.password\nBACKUP_PATHS=/data\n';
const nobody = () => {
  const [uid, gid] = ['-u', '-g'].map((flag) =>
    Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim()),
  );
  return { uid: uid!, gid: gid! };
};
/** A folder that belongs to nobody, as node_exporter's textfile folder belongs to its account. */
function nobodysFolder(folder: string): string {
  fs.mkdirSync(folder, { recursive: true, mode: 0o755 });
  fs.chownSync(folder, nobody().uid, nobody().gid);
  return folder;
}
/** A profile whose BACKUP_METRICS_DIR is `<folder>/<name>`, `folder` belonging to nobody (and made, not `name`); its
 * repository made. */
function metricsBelowNobodysFolder(folder: string, name: string) {
  const root = tempRoot();
  fs.chmodSync(root, 0o755);
  const setup = resticSetup(root, { extra: `BACKUP_METRICS_DIR=${folder}/${name}\n` });
  setup.createRepository();
  return { root, setup, folder: nobodysFolder(path.join(root, folder)) };
}
const asNobody = (script: string) =>
  spawnSync('runuser', ['-u', 'nobody', '--', 'sh', '-c', script], { encoding: 'utf8' });
const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)|internal error/);

afterAll(removeTempRoots);

describe('F1: a folder another account can write (BACKUP_METRICS_DIR, render --out)', () => {
  test(
    "nobody, owner of the metrics folder, plants links during a real backup: the repository and root's files " +
      'stay as they were',
    async () => {
      const root = tempRoot();
      fs.chmodSync(root, 0o755);
      const setup = resticSetup(root, { extra: 'BACKUP_METRICS_DIR=/var/lib/node-exporter\n' });
      setup.createRepository();
      // Enough data for the attacker to find the job's pid while restic works.
      fs.writeFileSync(path.join(setup.data, 'big'), Buffer.alloc(64 * 1024 * 1024, 7));
      const metrics = nobodysFolder(path.join(root, 'var/lib/node-exporter'));
      const config = path.join(root, 'srv/repo/config');
      const victim = path.join(root, 'victim.txt');
      fs.writeFileSync(victim, 'root only\n', { mode: 0o600 });
      const before = { config: snapshotTree(path.dirname(config))['config'], victim: fs.readFileSync(victim, 'utf8') };
      const stop = path.join(root, 'stop-attacker');

      // What the review did, and more: links at the old predictable temp names of every matching
      // pid, at the metrics file's own name, and in place of every temp file that shows up.
      const attacker = spawn('runuser', [
        '-u',
        'nobody',
        '--',
        'sh',
        '-c',
        `
      cd '${metrics}' || exit 1
      while [ ! -e '${stop}' ]; do
        for pid in $(pgrep -f 'cli.js --root ${root} run backup'); do
          ln -sf '${config}' ".restic-systemd_myconf_backup.prom.$pid.tmp" 2>/dev/null
        done
        ln -sfn '${victim}' restic-systemd_myconf_backup.prom 2>/dev/null
        for temp in .*.tmp; do
          [ -f "$temp" ] && [ ! -L "$temp" ] && mv -f "$temp" "$temp.taken" 2>/dev/null \\
            && ln -s '${config}' "$temp" 2>/dev/null
        done
        sleep 0.005
      done`,
      ]);
      try {
        const result = await runCliAsync(['--root', root, 'run', 'backup', 'myconf'], setup.env);
        expect(result.stderr).not.toContain('could not write the metrics: EACCES');
        expect(result.exitCode).toBe(0);
      } finally {
        fs.writeFileSync(stop, '');
        await new Promise((resolve) => attacker.on('exit', resolve));
      }
      expect(snapshotTree(path.dirname(config))['config']).toBe(before.config);
      expect(fs.readFileSync(victim, 'utf8')).toBe(before.victim);
      expect(fs.statSync(victim).mode & 0o777).toBe(0o600);
      expect(snapshots(setup)).toHaveLength(1);
    },
  );

  test('render --out into a folder of another account is refused and writes nothing', () => {
    const root = tempRoot();
    fs.chmodSync(root, 0o755);
    writeProfile(root, 'myconf', PROFILE);
    fs.writeFileSync(path.join(root, 'etc/restic/myconf.password'), 'pw\n', { mode: 0o600 });
    const out = nobodysFolder(path.join(root, 'units'));
    const result = runCli(['--root', root, 'render', 'myconf', '--out', out]);
    expect(result.stderr).toContain(`${out}: it belongs to uid ${nobody().uid}, not to root`);
    expect(result.exitCode).toBe(4);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  test(
    'a metrics folder inside a folder of another account (which could swap it for a link) is refused: the run ' +
      "goes on, root's files stay as they were",
    () => {
      const { root, setup, folder: metrics } = metricsBelowNobodysFolder('/var/lib/node-exporter', 'textfiles');
      // nobody swaps the folder for a link to root's files: links inside another account's folder are not followed.
      expect(asNobody(`ln -s '${path.join(root, 'etc/restic')}' '${metrics}/textfiles'`).status).toBe(0);
      const before = snapshotTree(path.join(root, 'etc/restic'));
      const result = setup.cli('run', 'backup', 'myconf');
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toContain(
        `could not write the metrics: ${metrics}/textfiles: is a symbolic link inside a folder of another ` +
          `account: it is not followed`,
      );
      expect(snapshotTree(path.join(root, 'etc/restic'))).toEqual(before);
    },
  );

  test(
    "Debian's layout, a root textfile folder inside a folder of node_exporter's account (/var/lib/prometheus), " +
      'is written; a folder is never created there',
    () => {
      const { setup, folder: prometheus } = metricsBelowNobodysFolder('/var/lib/prometheus', 'node-exporter');
      // Not there yet: root does not create a folder inside another account's.
      let result = setup.cli('run', 'backup', 'myconf');
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toContain(
        `could not write the metrics: ${prometheus}/node-exporter: will not create a folder inside a folder of ` +
          `another account`,
      );
      fs.mkdirSync(path.join(prometheus, 'node-exporter'), { mode: 0o755 });
      result = setup.cli('run', 'backup', 'myconf');
      expect(result.stderr).not.toContain('could not write the metrics');
      expect(
        fs.readFileSync(path.join(prometheus, 'node-exporter/restic-systemd_myconf_backup.prom'), 'utf8'),
      ).toContain('restic_systemd_last_exit_code{profile="myconf",task="backup"} 0');
    },
  );
});

test('F7: run with a refused profile name writes no status file anywhere, and exits 2', () => {
  const root = tempRoot();
  const before = snapshotTree(root);
  for (const name of ['../../../etc/cron.d/pwn', 'a/b/c', '../../../../escaped']) {
    const result = runCli(['--root', root, 'run', 'backup', name]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('is not allowed');
  }
  expect(snapshotTree(root)).toEqual(before);
  expect(fs.existsSync(path.join(path.dirname(root), 'escaped.backup.json'))).toBe(false);
});

test(
  'F9: setup --force replaces a link planted at <name>.conf.old instead of copying the old profile ' + 'through it',
  () => {
    const root = tempRoot();
    fs.mkdirSync(path.join(root, 'data'));
    writeProfile(root, 's1', 'RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD=InlineSecretPW9\nBACKUP_PATHS=/data\n');
    const elsewhere = path.join(root, 'attacker-owned');
    fs.writeFileSync(elsewhere, '');
    fs.chownSync(elsewhere, nobody().uid, nobody().gid);
    fs.symlinkSync(elsewhere, path.join(root, 'etc/restic/s1.conf.old'));
    runCli(['--root', root, 'setup', 's1', '--force', '--path', path.join(root, 'data')]);
    expect(fs.readFileSync(elsewhere, 'utf8')).toBe('');
    const old = fs.lstatSync(path.join(root, 'etc/restic/s1.conf.old'));
    expect(old.isFile()).toBe(true);
    expect(old.mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(root, 'etc/restic/s1.conf.old'), 'utf8')).toContain('InlineSecretPW9');
  },
);

// Six rounds of three CLI runs, each install checking its schedules (systemd-analyze) and probing its repository
// (restic): over a minute on a loaded machine.
test('F10: install b racing uninstall a --purge never leaves b enabled without its template units', async () => {
  for (let round = 0; round < 6; round++) {
    const root = tempRoot();
    for (const name of ['a', 'b'])
      writeProfile(root, name, `RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_FILE=/etc/restic/${name}.password\n`);
    for (const name of ['a', 'b'])
      fs.writeFileSync(path.join(root, `etc/restic/${name}.password`), 'pw\n', { mode: 0o600 });
    expect(runCli(['--root', root, 'install', 'a']).exitCode).toBe(0);
    const delay = (round % 3) * 40;
    const [install, uninstall] = await Promise.all([
      new Promise((resolve) => setTimeout(resolve, delay)).then(() => runCliAsync(['--root', root, 'install', 'b'])),
      runCliAsync(['--root', root, 'uninstall', 'a', '--purge']),
    ]);
    expect(install.exitCode).toBe(0);
    // Refused (2) when b was installed first: b still uses the templates.
    expect([0, 2]).toContain(uninstall.exitCode);
    const units = path.join(root, 'etc/systemd/system');
    expect(fs.existsSync(path.join(units, 'restic@b.service.d'))).toBe(true);
    expect(fs.readlinkSync(path.join(units, 'timers.target.wants/restic@b.timer'))).toBe(
      '/etc/systemd/system/restic@.timer',
    );
    for (const template of [
      'restic@.service',
      'restic@.timer',
      'restic-maintenance@.service',
      'restic-maintenance@.timer',
    ])
      expect(fs.existsSync(path.join(units, template))).toBe(true);
  }
}, 240_000);

describe("N8: the sandbox's writable folders inside another account's folder", () => {
  test('validate and install warn that the folder could be swapped for a link (exit 0)', () => {
    const root = tempRoot();
    fs.chmodSync(root, 0o755);
    const setup = resticSetup(root, { extra: 'BACKUP_METRICS_DIR=/var/lib/prometheus/node-exporter\n' });
    setup.createRepository();
    const owned = nobodysFolder(path.join(root, 'var/lib/prometheus'));
    fs.mkdirSync(path.join(owned, 'node-exporter'));
    const result = setup.cli('validate', setup.name);
    expect(result.exitCode).toBe(0);
    expect(result.stdout + result.stderr).toMatch(
      /\/var\/lib\/prometheus\/node-exporter is in \/var\/lib\/prometheus, which uid \d+ can change/,
    );
  });
});

describe('F11: an image whose folders are absolute links', () => {
  test(
    'install --root and run --root read and write inside the image, where its links lead, never onto ' + 'this host',
    () => {
      // As in the review: the image's links are absolute, and name folders that exist on this host too.
      const host = tempRoot();
      const root = tempRoot();
      const inImage = (folder: string) => path.join(root, host, folder);
      for (const folder of ['config', 'state']) {
        fs.mkdirSync(path.join(host, folder), { mode: 0o700 });
        fs.mkdirSync(inImage(folder), { recursive: true, mode: 0o700 });
      }
      fs.rmSync(path.join(root, 'etc/restic'), { recursive: true });
      fs.mkdirSync(path.join(root, 'var/lib'), { recursive: true });
      fs.symlinkSync(path.join(host, 'config'), path.join(root, 'etc/restic'));
      fs.symlinkSync(path.join(host, 'state'), path.join(root, 'var/lib/restic-systemd'));
      fs.writeFileSync(path.join(inImage('config'), 'myconf.password'), 'image-password\n', { mode: 0o600 });
      fs.writeFileSync(path.join(inImage('config'), 'myconf.conf'), PROFILE, { mode: 0o600 });
      fs.mkdirSync(path.join(root, 'data'));
      const release = RESTIC_RELEASES[0]!;
      createRepository(release, path.join(root, 'srv/repo'), 'image-password');
      const hostBefore = snapshotTree(host);
      const cli = (...args: string[]) => runCli(['--root', root, ...args], { RESTIC_BIN: release.binary });
      const install = cli('install', 'myconf');
      expect(install.stderr).toBe('');
      expect(install.exitCode).toBe(0);
      expect(cli('run', 'backup', 'myconf').exitCode).toBe(0);
      expect(fs.existsSync(path.join(inImage('state'), 'myconf.backup.json'))).toBe(true);
      expect(snapshotTree(host)).toEqual(hostBefore);
    },
  );

  test(
    'a unit folder that is a link is refused before anything is written (systemd would load no unit ' + 'from it)',
    () => {
      const root = tempRoot();
      writeProfile(root, 'myconf', PROFILE);
      fs.writeFileSync(path.join(root, 'etc/restic/myconf.password'), 'pw\n', { mode: 0o600 });
      fs.mkdirSync(path.join(root, 'usr/lib/image-units'), { recursive: true });
      fs.mkdirSync(path.join(root, 'etc/systemd'));
      fs.symlinkSync('/usr/lib/image-units', path.join(root, 'etc/systemd/system'));
      const before = snapshotTree(root);
      const result = runCli(['--root', root, 'install', 'myconf']);
      expect(result.stderr).toContain('systemd loads no unit from a unit folder reached through a link');
      expect(result.exitCode).toBe(4);
      expect(snapshotTree(root)).toEqual(before);
    },
  );
});

describe('F12: what operators are told to run never targets a folder others can prepare', () => {
  test('no printed hint and no docs page restores into, or renders into, /tmp', () => {
    const pages = [
      'README.md',
      ...fs
        .readdirSync(path.join(PROJECT, 'docs'))
        .filter((page) => page.endsWith('.md'))
        .map((page) => `docs/${page}`),
    ];
    for (const page of pages) {
      const text = fs.readFileSync(path.join(PROJECT, page), 'utf8');
      expect({ page, found: text.match(/--(target|out)[ =]\/tmp\b/g) }).toEqual({ page, found: null });
    }
    expect(runCli(['--help']).stdout).not.toMatch(/--(target|out)[ =]\/tmp\b/);
    expect(runCli(['render', '--help']).stdout).not.toMatch(/\/tmp\b/);
  });
});

describe('F13: control characters in options never become lines of a file', () => {
  test('a --config-dir with a newline is refused (exit 2) before anything is written', () => {
    const root = tempRoot();
    const before = snapshotTree(root);
    const result = runCli([
      '--root',
      root,
      '--config-dir',
      '/etc/r\n[Service]\nExecStartPre=/bin/touch /tmp/INJECTED\n#',
      'install',
      'myconf',
    ]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--config-dir');
    expect(snapshotTree(root)).toEqual(before);
  });

  test('setup --repository or --path with a newline is refused (exit 2) and writes no profile', () => {
    const root = tempRoot();
    const before = snapshotTree(root);
    for (const option of ['--repository', '--path']) {
      const result = runCli(['--root', root, 'setup', 's2', option, '/srv/x\nRESTIC_PASSWORD_COMMAND=/tmp/evil.sh']);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(`${option} `);
      expect(result.stderr).toContain('nothing was changed');
    }
    expect(snapshotTree(root)).toEqual(before);
  });
});

describe('the CLI input of newcomer rows 3, 10, 28, 29 and 30: a relative repository, a share over 100 %', () => {
  test('setup --repository with a relative path is refused (exit 2) and writes nothing', () => {
    const root = tempRoot();
    const before = snapshotTree(root);
    const result = runCli(['--root', root, 'setup', 'rel', '--path', '/srv', '--repository', 'backups/repo']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/"backups\/repo" is a relative path: .* write it from \/.*; nothing was changed/);
    expect(snapshotTree(root)).toEqual(before);
  });

  test('a run of a profile name that does not exist exits 3 and leaves no status file behind', () => {
    const root = tempRoot();
    const result = runCli(['--root', root, 'run', 'backup', 'nosuch']);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('no such profile');
    const state = path.join(root, 'var/lib/restic-systemd');
    expect(fs.existsSync(state) ? fs.readdirSync(state).filter((file) => file.startsWith('nosuch')) : []).toEqual([]);
  });

  test('validate refuses a relative RESTIC_REPOSITORY and BACKUP_CHECK_SUBSET=150% (exit 3), naming each line', () => {
    const root = tempRoot();
    writeProfile(root, 'myconf', PROFILE.replace(/^RESTIC_REPOSITORY=.*$/m, 'RESTIC_REPOSITORY=repo'));
    fs.appendFileSync(path.join(root, 'etc/restic/myconf.conf'), 'BACKUP_CHECK_SUBSET=150%\n');
    const result = runCli(['--root', root, 'validate', 'myconf']);
    expect(result.exitCode).toBe(3);
    expect(result.stdout + result.stderr).toMatch(/RESTIC_REPOSITORY: "repo" is a relative path/);
    expect(result.stdout + result.stderr).toMatch(/BACKUP_CHECK_SUBSET: "150%" is not a share restic checks/);
  });

  test("root's patronictl reads only a Patroni configuration of root's; as PG_OS_USER, the account's own", () => {
    const root = tempRoot();
    fs.mkdirSync(path.join(root, 'etc/patroni'));
    const config = path.join(root, 'etc/patroni/17-main.yml');
    fs.writeFileSync(config, 'scope: main\n', { mode: 0o640 });
    fs.chownSync(config, nobody().uid, nobody().gid);
    const db = 'PGHOST=/run/postgresql\nPG_HA_MANAGER=patroni\nPG_PATRONI_CONFIG=/etc/patroni/17-main.yml\n';
    writeProfile(root, 'myconf', PROFILE + db);
    const refused = runCli(['--root', root, 'validate', 'myconf']);
    expect(refused.exitCode).toBe(3);
    expect(refused.stdout + refused.stderr).toMatch(
      /PG_PATRONI_CONFIG: root's patronictl reads \/etc\/patroni\/17-main\.yml/,
    );
    writeProfile(root, 'myconf', `${PROFILE}${db}PG_OS_USER=postgres\n`);
    const asOwner = runCli(['--root', root, 'validate', 'myconf']);
    expect(asOwner.stdout + asOwner.stderr).not.toContain("root's patronictl");
  });

  test('row 28: setup --root on an empty folder makes the system folders 0755, and only etc/restic 0700', () => {
    const root = tempRoot();
    fs.rmSync(path.join(root, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(root, 'srv/data'), { recursive: true });
    runCli(['--root', root, 'setup', 'good', '--path', '/srv/data']);
    const mode = (folder: string) => (fs.statSync(path.join(root, folder)).mode & 0o777).toString(8);
    expect({ etc: mode('etc'), var: mode('var'), lib: mode('var/lib') }).toEqual({
      etc: '755',
      var: '755',
      lib: '755',
    });
    expect(mode('etc/restic')).toBe('700');
  });

  test('row 30: a name that starts with "-" is named as such (exit 2), not "not enough arguments"', () => {
    const result = runCli(['--root', tempRoot(), 'validate', '-x']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('-x is not an option of validate, and a profile name cannot start with "-"');
  });

  test("a typo is suggested within its family, never toward another program's key", () => {
    const root = tempRoot();
    writeProfile(
      root,
      'myconf',
      `${PROFILE}BACKUP_KEEP_DAYLY=7
PASSWORD=x
`,
    );
    const result = runCli(['--root', root, 'validate', 'myconf']);
    expect(result.stdout + result.stderr).toContain('BACKUP_KEEP_DAYLY: unknown key of restic-systemd: did you mean');
    expect(result.stdout + result.stderr).not.toMatch(/PGPASSWORD/);
  });
});

describe('F14: odd input ends in a clean error with a documented exit code', () => {
  test('a profile over 1 MiB is a profile problem (exit 3), not an internal error', () => {
    const root = tempRoot();
    const file = writeProfile(root, 'myconf', PROFILE);
    fs.truncateSync(file, 3 * 1024 * 1024 * 1024);
    const result = runCli(['--root', root, 'validate', 'myconf']);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toContain('more than a profile of KEY=VALUE lines can be (1048576 bytes)');
    noStackTrace(result.stderr);
  });

  test(
    'a dangling state-folder link is followed inside the image, as the image would: the run succeeds, no stack ' +
      'trace',
    () => {
      const root = tempRoot();
      const setup = resticSetup(root);
      setup.createRepository();
      fs.mkdirSync(path.join(root, 'var/lib'), { recursive: true });
      fs.symlinkSync('/nonexistent/state', path.join(root, 'var/lib/restic-systemd'));
      const result = setup.cli('run', 'backup', 'myconf');
      noStackTrace(result.stderr);
      expect(result.exitCode).toBe(0);
      expect(fs.existsSync(path.join(root, 'nonexistent/state/myconf.backup.json'))).toBe(true);
    },
  );

  test(
    'a state folder that is a file: the job says it cannot write its status, with no stack trace, and keeps its ' +
      'verdict',
    () => {
      const root = tempRoot();
      const setup = resticSetup(root);
      setup.createRepository();
      fs.mkdirSync(path.join(root, 'var/lib'), { recursive: true });
      fs.writeFileSync(path.join(root, 'var/lib/restic-systemd'), '');
      const result = setup.cli('run', 'backup', 'myconf');
      noStackTrace(result.stderr);
      expect(result.stderr).toContain('could not write the status file');
      expect(result.stderr).toContain('is not a folder');
    },
  );

  test('a unit folder on a read-only file system: exit 4 with the reason', () => {
    const root = tempRoot();
    writeProfile(root, 'myconf', PROFILE);
    fs.writeFileSync(path.join(root, 'etc/restic/myconf.password'), 'pw\n', { mode: 0o600 });
    fs.mkdirSync(path.join(root, 'etc/systemd'), { recursive: true });
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', path.join(root, 'etc/systemd')], {
      encoding: 'utf8',
    });
    if (mount.status !== 0) throw new Error(`this test mounts a read-only tmpfs (it runs as root): ${mount.stderr}`);
    try {
      const result = runCli(['--root', root, 'install', 'myconf']);
      expect(result.exitCode).toBe(4);
      expect(result.stderr).toMatch(/read-only file system/i);
      noStackTrace(result.stderr);
    } finally {
      spawnSync('umount', [path.join(root, 'etc/systemd')]);
    }
  });

  test('a *.conf whose name is not a profile name is skipped with a warning: status and list report the others', () => {
    const root = tempRoot();
    writeProfile(root, 'good', PROFILE.replace('myconf.password', 'good.password'));
    fs.writeFileSync(path.join(root, 'etc/restic/good.password'), 'pw\n', { mode: 0o600 });
    fs.writeFileSync(path.join(root, 'etc/restic/my profile.conf'), '', { mode: 0o600 });
    for (const command of ['list', 'status']) {
      const result = runCli(['--root', root, command, '--json']);
      expect(result.stderr).toContain('my profile.conf');
      const parsed = JSON.parse(result.stdout);
      const entries: Array<{ profile?: string; name?: string }> = Array.isArray(parsed) ? parsed : parsed.jobs;
      expect([...new Set(entries.map((entry) => entry.profile ?? entry.name))]).toEqual(['good']);
      noStackTrace(result.stderr);
    }
  });
});
