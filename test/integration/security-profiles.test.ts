/**
 * The security review's findings about profiles and secrets (docs/security.md), run again through
 * the real CLI: F3 secrets in output and files, F4 who may influence what root runs (also when
 * systemd starts the job, with the environment systemd's own parser makes of the profile), F5 the
 * environment each child gets. The malformed profiles of F4 and F8 are fixtures
 * (fixtures/profiles/invalid/, test/integration/invalid-profiles.test.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, runCliWithEnvironment } from '../helpers/cli.js';
import { resticSetup } from '../helpers/restic.js';
import { unitEnvironment } from '../helpers/systemd-environment.js';
import { allFileText, removeTempRoots, tempRoot, writeProfile } from '../helpers/temp-root.js';

afterAll(removeTempRoots);

const nobodyUid = () => Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());

describe('F3: secrets never leave the process unmasked', () => {
  test(
    "the review's four profiles: validate, status, list, install and run (text and --json) show none of their " +
      'secrets, nor does any file they write',
    () => {
      const root = tempRoot();
      fs.writeFileSync(path.join(root, 'etc/restic/pw'), 'correct-horse-battery-staple\n', { mode: 0o600 });
      fs.mkdirSync(path.join(root, 'srv/data'), { recursive: true });
      const secrets = ['20241231', 'PingPassw0rd', 'Db-Pass-Word', 'RestPassw0rd', 'correct-horse-battery-staple'];
      writeProfile(root, 'a', "RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD='20241231'\nBACKUP_PATHS=/srv/data\n");
      writeProfile(
        root,
        'b',
        'RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_FILE=/etc/restic/pw\nBACKUP_PING_URL=https://ops:PingPassw0rd@hc.example.com/uuid x\n',
      );
      writeProfile(
        root,
        'c',
        "RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_FILE=/etc/restic/pw\nPGPASSWORD 'Db-Pass-Word'\n",
      );
      writeProfile(
        root,
        'd',
        'RESTIC_REPOSITORY=rest:https://u:RestPassw0rd@h.example/\nRESTIC_PASSWORD_FILE=/etc/restic/pw\nBACKUP_TIMEOUT=RestPassw0rd\n',
      );
      const outputs: string[] = [];
      const run = (...args: string[]) => {
        for (const json of [[], ['--json']]) {
          const result = runCli(['--root', root, ...args, ...json]);
          outputs.push(result.stdout, result.stderr);
        }
      };
      for (const name of ['a', 'b', 'c', 'd']) {
        run('validate', name);
        run('install', name);
        run('run', 'backup', name);
        run('render', name);
      }
      run('status');
      run('list');
      const text = outputs.join('\n');
      // The runs happened, and said why they failed.
      expect(text).toContain('RESTIC_PASSWORD');
      expect(text).toContain('BACKUP_TIMEOUT');
      const files = [allFileText(path.join(root, 'var')), allFileText(path.join(root, 'etc/systemd'))].join('\n');
      for (const secret of secrets) {
        expect({ secret, inOutput: text.includes(secret) }).toEqual({ secret, inOutput: false });
        expect({ secret, inFiles: files.includes(secret) }).toEqual({ secret, inFiles: false });
      }
      const statusFiles = fs
        .readdirSync(path.join(root, 'var/lib/restic-systemd'))
        .filter((file) => file.endsWith('.json'));
      expect(statusFiles.length).toBeGreaterThan(0);
      for (const file of statusFiles)
        expect(fs.statSync(path.join(root, 'var/lib/restic-systemd', file)).mode & 0o777).toBe(0o640);
    },
  );

  test("a failed run's message reaches the status file, the metrics and NOTIFY_COMMAND masked", () => {
    const root = tempRoot();
    const recorded = path.join(root, 'notified.env');
    const script = path.join(root, 'notify.sh');
    fs.writeFileSync(script, `#!/bin/sh\nenv > '${recorded}'\n`, { mode: 0o755 });
    fs.mkdirSync(path.join(root, 'srv/data'), { recursive: true });
    writeProfile(
      root,
      'e',
      [
        'RESTIC_REPOSITORY=rest:http://backup:UrlSecret99@127.0.0.1:1/',
        'RESTIC_PASSWORD=InlinePw-7788',
        'AWS_SECRET_ACCESS_KEY=AwsSecretKey333',
        'BACKUP_PATHS=/srv/data',
        'BACKUP_NETWORK_TIMEOUT=5s',
        'BACKUP_METRICS_DIR=/var/lib/node-exporter',
        `NOTIFY_COMMAND=${script}`,
        '',
      ].join('\n'),
    );
    const backup = runCli(['--root', root, 'run', 'backup', 'e', '--verbose']);
    expect(backup.exitCode).toBe(13);
    const notify = runCli(['--root', root, 'notify', 'restic@e.service']);
    expect(notify.exitCode).toBe(0);
    const notified = fs.readFileSync(recorded, 'utf8');
    expect(notified).toMatch(/RESTIC_SYSTEMD_MESSAGE=[^]*127\.0\.0\.1/);
    const everything = [
      backup.stdout,
      backup.stderr,
      notify.stdout,
      notify.stderr,
      notified,
      allFileText(path.join(root, 'var')),
    ].join('\n');
    for (const secret of ['UrlSecret99', 'InlinePw-7788', 'AwsSecretKey333'])
      expect({ secret, found: everything.includes(secret) }).toEqual({ secret, found: false });
  });
});

describe('F4: only root may influence what a root job runs', () => {
  /** A profile installed by root, whose password command leaves a mark when it runs. */
  function installed() {
    const root = tempRoot();
    fs.chmodSync(root, 0o755);
    const setup = resticSetup(root);
    setup.createRepository();
    expect(setup.cli('install', 'myconf').exitCode).toBe(0);
    const mark = path.join(root, 'password-command-ran');
    const command = path.join(root, 'password-command');
    fs.writeFileSync(command, `#!/bin/sh\ntouch '${mark}'\necho '${setup.password}'\n`, { mode: 0o755 });
    const profile = path.join(root, 'etc/restic/myconf.conf');
    return { root, setup, mark, command, profile };
  }

  test(
    'a profile given to another account after install, who points it at its own program: the job started by ' +
      'systemd refuses it (exit 3) before anything runs',
    () => {
      const { root, setup, mark, command, profile } = installed();
      fs.chownSync(command, nobodyUid(), 0);
      fs.writeFileSync(
        profile,
        `RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_COMMAND=${command}\nBACKUP_PATHS=/data\n`,
      );
      fs.chownSync(profile, nobodyUid(), 0);
      const result = runCliWithEnvironment(['--root', root, 'run', 'backup', 'myconf'], {
        ...unitEnvironment(profile),
        ...setup.env,
      });
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toContain(`/etc/restic/myconf.conf belongs to uid ${nobodyUid()}, not to root`);
      expect(fs.existsSync(mark)).toBe(false);
    },
  );

  test('a profile made writable by others after install: the job started by systemd refuses it (exit 3)', () => {
    const { root, setup, mark, command, profile } = installed();
    fs.writeFileSync(profile, `RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_COMMAND=${command}\nBACKUP_PATHS=/data\n`);
    fs.chmodSync(profile, 0o666);
    const result = runCliWithEnvironment(['--root', root, 'run', 'backup', 'myconf'], {
      ...unitEnvironment(profile),
      ...setup.env,
    });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('is writable by group or others (mode 0666)');
    expect(fs.existsSync(mark)).toBe(false);
    // Made root's alone again, the same start runs the program and backs up.
    fs.chmodSync(profile, 0o600);
    expect(
      runCliWithEnvironment(['--root', root, 'run', 'backup', 'myconf'], { ...unitEnvironment(profile), ...setup.env })
        .exitCode,
    ).toBe(0);
    expect(fs.existsSync(mark)).toBe(true);
  });

  test('a *_BIN override that another account can change is refused (exit 4) before it runs', () => {
    const { root, setup } = installed();
    const fake = path.join(root, 'restic-of-nobody');
    const mark = path.join(root, 'fake-restic-ran');
    fs.writeFileSync(fake, `#!/bin/sh\ntouch '${mark}'\nexec '${setup.release.binary}' "$@"\n`, { mode: 0o755 });
    fs.chownSync(fake, nobodyUid(), 0);
    const result = runCli(['--root', root, 'run', 'backup', 'myconf'], { RESTIC_BIN: fake });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(`RESTIC_BIN=${fake} belongs to uid ${nobodyUid()}, not to root`);
    expect(fs.existsSync(mark)).toBe(false);
  });
});

describe('N1: a profile never chooses what root runs', () => {
  /** An account's bin folder with a "restic" that leaves a mark when it runs. */
  function attacker(root: string) {
    const bin = path.join(root, 'home/att/bin');
    fs.mkdirSync(bin, { recursive: true });
    const mark = path.join(root, 'fake-ran');
    const fake = path.join(bin, 'restic');
    fs.writeFileSync(fake, `#!/bin/sh\ntouch '${mark}'\nexit 0\n`, { mode: 0o755 });
    const evil = path.join(bin, 'evil');
    fs.writeFileSync(evil, `#!/bin/sh\ntouch '${mark}'\n`, { mode: 0o755 });
    for (const file of [bin, fake, evil]) fs.chownSync(file, nobodyUid(), 0);
    return { bin, mark, evil };
  }

  test('PATH, LD_PRELOAD and NODE_OPTIONS in a profile: validate, init, install and run refuse it (exit 3)', () => {
    const root = tempRoot();
    const setup = resticSetup(root);
    setup.createRepository();
    const { bin, mark } = attacker(root);
    const profile = path.join(root, 'etc/restic/myconf.conf');
    fs.appendFileSync(
      profile,
      `PATH=${bin}:/usr/sbin:/usr/bin:/sbin:/bin\nLD_PRELOAD=${bin}/evil.so\nNODE_OPTIONS=--require=${bin}/x.js\n`,
    );
    for (const command of [['validate'], ['init'], ['install'], ['run', 'backup']]) {
      const result = runCli(['--root', root, ...command, 'myconf'], { RESTIC_BIN: '' });
      expect({ command, exitCode: result.exitCode }).toEqual({ command, exitCode: 3 });
      for (const key of ['PATH', 'LD_PRELOAD', 'NODE_OPTIONS'])
        expect(result.stdout + result.stderr).toMatch(new RegExp(`${key}: chooses which program root runs`));
    }
    expect(fs.existsSync(mark)).toBe(false);
    expect(fs.existsSync(path.join(root, 'etc/systemd/system/restic@.service'))).toBe(false);
  });

  test(
    'added to the file after install, the job started by systemd (which unsets the loader variables) refuses it ' +
      '(exit 3) before restic runs',
    () => {
      const root = tempRoot();
      fs.chmodSync(root, 0o755);
      const setup = resticSetup(root);
      setup.createRepository();
      expect(setup.cli('install', 'myconf').exitCode).toBe(0);
      const { bin, mark } = attacker(root);
      const profile = path.join(root, 'etc/restic/myconf.conf');
      fs.appendFileSync(profile, `PATH=${bin}:/usr/bin:/bin\nLD_PRELOAD=${bin}/evil.so\n`);
      const unit = fs.readFileSync(path.join(root, 'etc/systemd/system/restic@.service'), 'utf8');
      const unset = /^UnsetEnvironment=(.*)$/m.exec(unit)![1]!.split(' ');
      expect(unset).toEqual(expect.arrayContaining(['LD_PRELOAD', 'NODE_OPTIONS']));
      const environment = unitEnvironment(profile);
      for (const key of unset) delete environment[key];
      const result = runCliWithEnvironment(['--root', root, 'run', 'backup', 'myconf'], {
        ...environment,
        ...setup.env,
        RESTIC_BIN: '',
      });
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toMatch(/myconf\.conf:\d+: PATH: chooses which program root runs/);
      expect(result.stderr).toMatch(/myconf\.conf:\d+: LD_PRELOAD: chooses which program root runs/);
      expect(fs.existsSync(mark)).toBe(false);
    },
  );

  test("restic's program options: another account's sftp.command is refused, ssh's ProxyCommand always", () => {
    const root = tempRoot();
    const setup = resticSetup(root);
    const { evil, mark } = attacker(root);
    const profile = path.join(root, 'etc/restic/myconf.conf');
    const text = fs.readFileSync(profile, 'utf8');
    // As the image sees it: under --root the profile names the image's files.
    const inImage = evil.slice(root.length);
    fs.writeFileSync(profile, `${text}BACKUP_RESTIC_OPTIONS=sftp.command=${inImage}\n`);
    const command = setup.cli('validate', 'myconf');
    expect(command.exitCode).toBe(3);
    // The first folder on the way that the account owns is named: /home/att/bin here.
    expect(command.stdout).toMatch(
      /BACKUP_RESTIC_OPTIONS sftp.command: it runs as root, and .*\/home\/att\/bin belongs to uid/,
    );
    fs.writeFileSync(profile, `${text}BACKUP_RESTIC_OPTIONS=sftp.args=-oProxyCommand=${evil}\n`);
    const proxy = setup.cli('validate', 'myconf');
    expect(proxy.exitCode).toBe(3);
    expect(proxy.stdout).toContain("sftp.args: ssh's ProxyCommand runs a program as root that no check sees");
    expect(fs.existsSync(mark)).toBe(false);
  });
});

describe('N2–N5: import reads only what root can vouch for, hides secrets, and ends quickly on hostile input', () => {
  const importOf = (root: string, ...args: string[]) => runCli(['--root', root, 'import', ...args, '--name', 'imp']);
  const old = (root: string, name: string, text: string) => {
    fs.mkdirSync(path.join(root, 'old'), { recursive: true });
    fs.writeFileSync(path.join(root, 'old', name), text);
    return `/old/${name}`;
  };
  const GOOD = 'RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_FILE=/etc/restic/pw\nBACKUP_PATHS=/srv/data\n';
  const KEEP = ['--set', 'BACKUP_KEEP_WITHIN=7d'];

  test("N2: another account's file blocks (exit 3, nothing written); a link is refused (exit 4)", () => {
    const root = tempRoot();
    const file = old(root, 'restic.env', GOOD);
    fs.chownSync(path.join(root, file), nobodyUid(), 0);
    const result = importOf(root, file, ...KEEP);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toMatch(/BLOCKING +\/old\/restic\.env: \/old\/restic\.env belongs to uid \d+/);
    expect(fs.existsSync(path.join(root, 'etc/restic/imp.conf'))).toBe(false);
    fs.chownSync(path.join(root, file), 0, 0);
    fs.symlinkSync('restic.env', path.join(root, 'old/link.env'));
    const linked = importOf(root, '/old/link.env', ...KEEP);
    expect(linked.exitCode).toBe(4);
    expect(linked.stderr).toContain('/old/link.env is a symbolic link');
    expect(importOf(root, file, ...KEEP).exitCode).toBe(0);
  });

  test('N5: a FIFO where a file was expected ends at once with a clear error, never hangs', () => {
    const root = tempRoot();
    fs.mkdirSync(path.join(root, 'old'));
    expect(spawnSync('mkfifo', [path.join(root, 'old/fifo.env')]).status).toBe(0);
    const result = importOf(root, '/old/fifo.env');
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('/old/fifo.env is not a regular file');
  });

  test('N3: an exclude or file-list file another account owns is refused by validate (exit 3)', () => {
    const root = tempRoot();
    const setup = resticSetup(root);
    const excludes = path.join(root, 'etc/restic/excludes');
    fs.writeFileSync(excludes, '*\n');
    fs.chownSync(excludes, nobodyUid(), 0);
    fs.appendFileSync(path.join(root, 'etc/restic/myconf.conf'), 'BACKUP_EXCLUDE_FILE=/etc/restic/excludes\n');
    const result = setup.cli('validate', 'myconf');
    expect(result.exitCode).toBe(3);
    expect(result.stdout + result.stderr).toMatch(
      /BACKUP_EXCLUDE_FILE: \/etc\/restic\/excludes decides what root backs up, and .* belongs to uid \d+/,
    );
  });

  test('N4: values on lines import could not read are hidden, in text and in --json', () => {
    const root = tempRoot();
    const file = old(
      root,
      'restic.sh',
      '#!/bin/bash\nexport RESTIC_REPOSITORY=/srv/repo\n' +
        "export RESTIC_PASSWORD='Tr0ub4dor&3-horse' restic snapshots\n" +
        'export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENG$SUFFIX\n' +
        'export B2_ACCOUNT_KEY="K001abcdefSECRETKEY`cat /x`"\n' +
        'restic -r rest:https://u:RestPw99@host/repo forget --keep-daily 7\n',
    );
    for (const json of [false, true]) {
      const result = runCli(['--root', root, ...(json ? ['--json'] : []), 'import', file, '--name', 's', '--dry-run']);
      const output = result.stdout + result.stderr;
      expect(output).toContain('AWS_SECRET_ACCESS_KEY');
      for (const secret of ['Tr0ub4dor', 'wJalrXUtnFEMIK7MDENG', 'K001abcdefSECRETKEY', 'RestPw99'])
        expect(output).not.toContain(secret);
    }
  });

  test('N5: 1 MiB of blank lines and an EnvironmentFile= of 20 specifiers are read in seconds', () => {
    const root = tempRoot();
    const blank = old(root, 'blank.env', `${'\n'.repeat(1024 * 1024 - 100)}${GOOD}`);
    const started = Date.now();
    expect(importOf(root, blank, '--dry-run', ...KEEP).exitCode).toBe(0);
    const unit = old(
      root,
      'x.service',
      '[Service]\nEnvironmentFile=/old/%a%b%c%d%e%f%g%h%j%k%l%m%n%o%p%q%r%s%t%u.conf\n' +
        'ExecStart=/usr/bin/restic backup /srv/data\n',
    );
    const data = old(root, 'aaaaaaaaaaaaaaaaaaaa.env', GOOD);
    expect(importOf(root, data, unit, '--dry-run', ...KEEP).exitCode).toBe(0);
    // Bounds of a hang, not a benchmark: each took minutes before.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe('N7: decrypted credentials of a killed run do not outlive it', () => {
  test("status removes the folders of dead runs and of reused pids, and keeps a live run's", () => {
    const folder = '/run/restic-systemd';
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    const dead = spawnSync('true').pid;
    const stat = fs.readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const names = {
      dead: `credentials.${dead}.1.0a1b2c`,
      reused: `credentials.${process.pid}.1.0a1b2c`,
      live: `credentials.${process.pid}.${started}.0a1b2c`,
    };
    for (const name of Object.values(names)) {
      fs.mkdirSync(path.join(folder, name), { mode: 0o700 });
      fs.writeFileSync(path.join(folder, name, 'RESTIC_PASSWORD'), 'plaintext\n', { mode: 0o600 });
    }
    try {
      runCli(['--config-dir', tempRoot(), 'status']);
      expect(fs.existsSync(path.join(folder, names.dead))).toBe(false);
      expect(fs.existsSync(path.join(folder, names.reused))).toBe(false);
      expect(fs.existsSync(path.join(folder, names.live))).toBe(true);
    } finally {
      for (const name of Object.values(names)) fs.rmSync(path.join(folder, name), { recursive: true, force: true });
    }
  });
});
