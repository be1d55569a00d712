/**
 * The backup job against a real REST server on loopback (`rclone serve restic`, on a port the
 * kernel picks), on every supported restic: the network's failures end within the profile's bound
 * (BACKUP_NETWORK_TIMEOUT) with their own exit code, a message that says what to check, and a
 * status file that says so: the server down when the job starts (13) or stopped mid-backup (13), a
 * host name that does not resolve (14), a TLS certificate restic does not trust (15), a wrong REST
 * password (12). validate shows restic's own reason. SFTP's failures (host key, refused key, sshd
 * down) are tested end to end, against a real sshd (test/e2e/remote-credentials.test.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { restServer, selfSignedCertificate, stopServers, type LoopbackServer } from '../helpers/remote-servers.js';
import { resticSetup, snapshots } from '../helpers/restic.js';
import { cheapenRepositoryKey } from '../helpers/restic-key.js';
import { RESTIC_MATRIX } from '../helpers/restic-versions.js';
import { removeTempRoots, tempRoot } from '../helpers/temp-root.js';

afterAll(removeTempRoots);

/** What every profile of these tests holds after its repository line. */
const PROFILE_REST =
  'RESTIC_PASSWORD_FILE=/etc/restic/myconf.password\nBACKUP_PATHS=/data\nBACKUP_NETWORK_TIMEOUT=5s\n';
afterEach(stopServers);

const status = (root: string, name: string) =>
  JSON.parse(fs.readFileSync(path.join(root, 'var/lib/restic-systemd', `${name}.backup.json`), 'utf8'));

/** Run the CLI, and how long it took. */
function timed(run: () => ReturnType<typeof runCli>) {
  const started = Date.now();
  const result = run();
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

describe.each(RESTIC_MATRIX)('with restic %s', (_label, release) => {
  /** A profile of the repository URL, bounded at 5 s of retries; `served` is the server's folder, its repository
   * created (with a cheap key) when asked. */
  function remoteSetup(root: string, repository: string, options: { extra?: string; served?: string } = {}) {
    const setup = resticSetup(root, { release });
    fs.writeFileSync(
      path.join(root, 'etc/restic/myconf.conf'),
      `RESTIC_REPOSITORY=${repository}\n${PROFILE_REST}${options.extra ?? ''}`,
      { mode: 0o600 },
    );
    if (options.served) {
      const init = setup.cli('init', setup.name);
      if (init.exitCode !== 0) throw new Error(`init failed (${init.exitCode}): ${init.stderr}`);
      cheapenRepositoryKey(options.served, setup.password);
    }
    return setup;
  }

  test(
    'backs up to the server; with the server down the next run fails within BACKUP_NETWORK_TIMEOUT with exit ' +
      '13; once it is back, the next run succeeds',
    async () => {
      const root = tempRoot();
      const served = path.join(root, 'served');
      const server = await restServer({ folder: served });
      const setup = remoteSetup(root, `rest:http://127.0.0.1:${server.port}/`, { served });
      expect(setup.cli('run', 'backup', setup.name).exitCode).toBe(0);
      expect(snapshots(setup)).toHaveLength(1);

      await server.stop();
      const result = timed(() => setup.cli('run', 'backup', setup.name));
      expect(result.exitCode).toBe(13);
      expect(result.stderr).toContain('the repository cannot be reached');
      // restic 0.17+ would retry for 15 minutes: the job stopped it after the profile's 5 s (plus restic's own last
      // back-off).
      expect(result.seconds).toBeLessThan(60);
      expect(status(root, setup.name)).toMatchObject({ result: 'failure', exitCode: 13 });
      // validate shows restic's own reason.
      const invalid = setup.cli('validate', setup.name);
      expect(invalid.exitCode).toBe(3);
      expect(invalid.stdout + invalid.stderr).toMatch(/connection refused/);

      await server.start();
      expect(setup.cli('run', 'backup', setup.name).exitCode).toBe(0);
      expect(snapshots(setup)).toHaveLength(2);
    },
  );

  test(
    'the server stopped in the middle of a backup: the run ends within the bound with exit 13 ' + 'and no retention',
    async () => {
      const root = tempRoot();
      const served = path.join(root, 'served');
      const server = await restServer({ folder: served });
      const setup = remoteSetup(root, `rest:http://127.0.0.1:${server.port}/`, { served });
      spawnSync('dd', ['if=/dev/urandom', `of=${path.join(setup.data, 'big.bin')}`, 'bs=1M', 'count=200'], {
        stdio: 'ignore',
      });
      fs.writeFileSync(setup.argvLog, '');
      const started = Date.now();
      const job = spawn(process.execPath, ['dist/cli.js', '--root', root, 'run', 'backup', setup.name], {
        env: { ...process.env, ...setup.env },
      });
      let stderr = '';
      job.stderr.on('data', (chunk) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => job.on('exit', resolve));
      for (let tries = 0; tries < 100 && !/^backup/m.test(fs.readFileSync(setup.argvLog, 'utf8')); tries++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 700));
      await server.stop();
      const code = await exited;
      expect(code).toBe(13);
      expect((Date.now() - started) / 1000).toBeLessThan(90);
      expect(stderr).toContain('the repository cannot be reached');
      expect(fs.readFileSync(setup.argvLog, 'utf8')).not.toMatch(/^forget/m);
      expect(status(root, setup.name)).toMatchObject({ result: 'failure', exitCode: 13 });
    },
  );

  test('a repository host name that does not resolve fails within the bound with exit 14', () => {
    const setup = remoteSetup(tempRoot(), 'rest:http://restic-systemd-test.invalid:8000/');
    const result = timed(() => setup.cli('run', 'backup', setup.name));
    expect(result.exitCode).toBe(14);
    expect(result.stderr).toContain('does not resolve');
    expect(result.seconds).toBeLessThan(60);
    expect(status(setup.root, setup.name)).toMatchObject({ result: 'failure', exitCode: 14 });
  });

  describe('over TLS with a password (htpasswd)', () => {
    let root: string;
    let served: string;
    let server: LoopbackServer;
    let certificate: { cert: string; key: string };
    const USER_PASSWORD = 'rest-user-password-8Hq2';

    beforeEach(async () => {
      root = tempRoot();
      served = path.join(root, 'served');
      // The CA lives in the target root: the profile names it as the machine would see it.
      certificate = selfSignedCertificate(path.join(root, 'etc/restic'));
      server = await restServer({ folder: served, tls: certificate, users: { backup: USER_PASSWORD } });
    });

    const url = (password: string) => `rest:https://backup:${password}@127.0.0.1:${server.port}/`;
    const caLine = () => `RESTIC_CACERT=/etc/restic/${path.basename(certificate.cert)}\n`;

    test(
      'with the CA named by RESTIC_CACERT the job backs up (restic 0.14 through --cacert); the password shows ' +
        'nowhere',
      () => {
        const setup = remoteSetup(root, url(USER_PASSWORD), { served, extra: caLine() });
        expect(setup.cli('validate', setup.name).stdout).toContain('valid');
        const run = setup.cli('run', 'backup', setup.name);
        expect(run.exitCode).toBe(0);
        expect(run.stdout + run.stderr).not.toContain(USER_PASSWORD);
        expect(fs.readFileSync(setup.argvLog, 'utf8')).not.toContain(USER_PASSWORD);
        expect(JSON.stringify(status(root, setup.name))).not.toContain(USER_PASSWORD);
      },
    );

    test(
      'a certificate restic does not trust (no RESTIC_CACERT, or another CA) fails at once with exit 15, naming ' +
        'RESTIC_CACERT',
      () => {
        const setup = remoteSetup(root, url(USER_PASSWORD), { served, extra: caLine() });
        const otherCa = path.basename(selfSignedCertificate(path.join(root, 'etc/restic'), 'other').cert);
        for (const extra of ['', `RESTIC_CACERT=/etc/restic/${otherCa}\n`]) {
          fs.writeFileSync(
            path.join(root, 'etc/restic/myconf.conf'),
            `RESTIC_REPOSITORY=${url(USER_PASSWORD)}\n${PROFILE_REST}${extra}`,
            { mode: 0o600 },
          );
          const result = timed(() => setup.cli('run', 'backup', setup.name));
          expect(result.exitCode).toBe(15);
          expect(result.stderr).toContain('RESTIC_CACERT');
          expect(result.stderr).not.toContain(USER_PASSWORD);
          expect(result.seconds).toBeLessThan(60);
          expect(status(root, setup.name)).toMatchObject({ result: 'failure', exitCode: 15 });
          const invalid = setup.cli('validate', setup.name);
          expect(invalid.exitCode).toBe(3);
          expect(invalid.stdout + invalid.stderr).toMatch(/x509|certificate/);
        }
      },
    );

    test(
      'a wrong REST password fails at once with exit 12, saying to check the credentials; neither password ' + 'shows',
      () => {
        const setup = remoteSetup(root, url(USER_PASSWORD), { served, extra: caLine() });
        fs.writeFileSync(
          path.join(root, 'etc/restic/myconf.conf'),
          `RESTIC_REPOSITORY=${url('not-the-password-5Tz')}\n${PROFILE_REST}${caLine()}`,
          { mode: 0o600 },
        );
        const result = timed(() => setup.cli('run', 'backup', setup.name));
        expect(result.exitCode).toBe(12);
        expect(result.stderr).toMatch(/credentials|denied/);
        for (const secret of [USER_PASSWORD, 'not-the-password-5Tz'])
          expect(result.stdout + result.stderr).not.toContain(secret);
        expect(result.seconds).toBeLessThan(60);
        expect(status(root, setup.name)).toMatchObject({ result: 'failure', exitCode: 12 });
      },
    );
  });
});
