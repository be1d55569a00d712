/**
 * The Debian package in a real systemd, on Debian 12 and Debian 13, as an operator installs it:
 * `apt install ./restic-systemd_<version>_all.deb` (with each release's own nodejs: Debian 12's is 18.20),
 * then the guide's flow from the package, man and completion, node_exporter's view of the metrics,
 * an upgrade that leaves the installed units as they are, and a removal that leaves profiles and
 * repositories alone. Then the Ansible role (contrib/ansible) run twice against a fresh container.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPackage } from '../helpers/debian-package.js';
import { PROJECT } from '../helpers/cli.js';
import { Container, waitFor } from './harness/container.js';
import { RELEASE_MATRIX, type DebianRelease } from './harness/rootfs.js';
import { expectSucceeded, startUnit } from './harness/units.js';

const VERSION = JSON.parse(fs.readFileSync(path.join(PROJECT, 'package.json'), 'utf8')).version as string;
const UPGRADE = `${VERSION}.1`;
const DEBS = '/root/debs';
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-e2e-deb-'));

beforeAll(() => {
  buildPackage(folder);
  buildPackage(folder, UPGRADE);
}, 300_000);

afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

/** A container of the release, with its own nodejs only, that sees the built packages in DEBS. */
function bootWithPackages(release: DebianRelease): Promise<Container> {
  return Container.boot(release, { node: 'debian', linkCli: false, binds: [[folder, DEBS]] });
}

/** apt-get in the container, never asking. */
function apt(container: Container, args: string[]) {
  return container.run(['apt-get', ...args], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
}

/** Every file under the folders install writes to, with its content hash and modification time. */
function unitTree(container: Container): string {
  return container.sh(
    'find /etc/systemd/system /etc/systemd/system-generators -type f -printf "%p %T@ " -exec sha256sum {} \\; | sort',
  ).stdout;
}

describe.each(RELEASE_MATRIX)('%s', (_name, release) => {
  let container: Container;

  beforeAll(async () => {
    container = await bootWithPackages(release);
    // No network: apt resolves the package's dependencies (Debian's own nodejs among them) from what the image has.
    const installed = apt(container, [
      'install',
      '-y',
      '--no-install-recommends',
      `${DEBS}/restic-systemd_${VERSION}_all.deb`,
    ]);
    expect(installed.stdout).toMatch(/Setting up restic-systemd/);
  }, 600_000);

  afterAll(async () => {
    await container?.stop();
  }, 60_000);

  test('installed: the command on PATH, man pages, bash completion', () =>
    container.scenario(() => {
      expect(container.run(['sh', '-c', 'command -v restic-systemd']).stdout.trim()).toBe('/usr/bin/restic-systemd');
      expect(container.run(['restic-systemd', '--version']).stdout.trim()).toBe(VERSION);
      const page = container.run(['man', '-P', 'cat', 'restic-systemd'], { env: { MANWIDTH: '100' } }).stdout;
      expect(page).toMatch(/restic-systemd - /);
      expect(page).toContain('EXIT STATUS');
      expect(container.run(['man', '-P', 'cat', '5', 'restic-systemd.conf']).stdout).toContain('BACKUP_PATHS');
      // Where bash-completion's loader looks for a command's completion; yargs' function asks the CLI.
      const completion = container.run([
        'bash',
        '-c',
        '. /usr/share/bash-completion/completions/restic-systemd; COMP_WORDS=(restic-systemd ins); ' +
          'COMP_CWORD=1; _restic-systemd_yargs_completions; printf "%s\\n" "${COMPREPLY[@]}"',
      ]).stdout;
      expect(completion.split('\n')).toContain('install');
    }));

  test(
    "the guide's flow from the package: profile, init, install, systemctl enable --now, a run; node_exporter " +
      'shows its metrics',
    () =>
      container.scenario(async () => {
        container.run(['mkdir', '-p', '/media/myconf']);
        container.writeFile('/media/myconf/file.txt', 'data of the guide\n');
        container.writeProfile(
          'myconf',
          ['RESTIC_REPOSITORY=/var/lib/restic/myconf', 'BACKUP_METRICS_DIR=/var/lib/prometheus/node-exporter'],
          'pw-of-the-package-test',
        );
        container.run(['restic-systemd', 'init', 'myconf']);
        container.run(['restic-systemd', 'install', 'myconf']);
        container.run(['systemctl', 'enable', '--now', 'restic@myconf.timer']);
        // The units run the package's own files, by absolute paths.
        expect(container.unitProperty('restic@myconf.service', 'ExecStart')).toMatch(
          new RegExp(
            String.raw`path=/usr/bin/node(js)? ; argv\[\]=/usr/bin/node(js)? ` +
              String.raw`/usr/lib/restic-systemd/dist/cli\.js --config-dir /etc/restic run backup myconf`,
          ),
        );
        expectSucceeded(container, 'restic@myconf.service', startUnit(container, 'restic@myconf.service'));
        expect(container.run(['restic-systemd', 'exec', 'myconf', '--', 'restic', 'ls', 'latest']).stdout).toContain(
          '/media/myconf/file.txt',
        );

        // Debian's node_exporter reads its textfile folder, where the run wrote its metrics.
        container.run(['systemctl', 'start', 'prometheus-node-exporter.service']);
        const scrape =
          "fetch('http://127.0.0.1:9100/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), () " +
          '=> process.exit(1))';
        const metrics = await waitFor('node_exporter to answer', () => {
          const answer = container.run(['node', '-e', scrape], { allowFailure: true });
          return answer.exitCode === 0 ? answer.stdout : undefined;
        });
        expect(metrics).toMatch(/^restic_systemd_last_exit_code\{profile="myconf",task="backup"\} 0$/m);
        expect(metrics).toMatch(/^restic_systemd_schedule_interval_seconds\{profile="myconf",task="backup"\} 3600$/m);
        expect(metrics).toMatch(/^restic_systemd_last_success_timestamp_seconds\{profile="myconf",task="backup"\} \d/m);
        // Read without complaint: node_exporter reports a textfile it cannot parse as an error.
        expect(metrics).toMatch(/^node_textfile_scrape_error 0$/m);
        // The shipped alert rules are where the docs say.
        expect(
          container.run(['test', '-f', '/usr/share/restic-systemd/prometheus/restic-systemd.rules.yml']).exitCode,
        ).toBe(0);
      }),
  );

  test('an upgrade changes no installed unit, keeps the timers, and the next run uses the new version', () =>
    container.scenario(() => {
      const before = unitTree(container);
      const upgraded = apt(container, ['install', '-y', `${DEBS}/restic-systemd_${UPGRADE}_all.deb`]);
      expect(upgraded.stdout).toContain(`Unpacking restic-systemd (${UPGRADE}) over (${VERSION})`);
      expect(unitTree(container)).toBe(before);
      expect(container.run(['restic-systemd', '--version']).stdout.trim()).toBe(UPGRADE);
      expect(container.run(['systemctl', 'is-enabled', 'restic@myconf.timer']).stdout.trim()).toBe('enabled');
      expectSucceeded(container, 'restic@myconf.service', startUnit(container, 'restic@myconf.service'));
      // Nothing to re-install: the new version renders the same units.
      expect(container.run(['restic-systemd', 'validate', 'myconf']).exitCode).toBe(0);
      expect(JSON.parse(container.run(['restic-systemd', '--json', 'install', 'myconf']).stdout).changed).toBe(false);
    }));

  test(
    'removing the package leaves profiles, passwords, repositories and the units, and says how to ' + 'remove those',
    () =>
      container.scenario(() => {
        const removed = apt(container, ['remove', '-y', 'restic-systemd']);
        expect(`${removed.stdout}${removed.stderr}`).toMatch(
          new RegExp(
            '^restic-systemd: to remove them, install the package again and run: ' +
              'restic-systemd uninstall --purge myconf$',
            'm',
          ),
        );
        expect(container.run(['test', '-e', '/usr/bin/restic-systemd'], { allowFailure: true }).exitCode).not.toBe(0);
        for (const file of [
          '/etc/restic/myconf.conf',
          '/etc/restic/myconf.password',
          '/var/lib/restic/myconf/config',
          '/etc/systemd/system/restic@.service',
        ]) {
          expect([file, container.run(['test', '-f', file], { allowFailure: true }).exitCode]).toEqual([file, 0]);
        }
        // Back, and the units go as the message says; the profile stays.
        apt(container, ['install', '-y', `${DEBS}/restic-systemd_${UPGRADE}_all.deb`]);
        container.run(['restic-systemd', 'uninstall', '--purge', 'myconf']);
        expect(
          container.run(['test', '-e', '/etc/systemd/system/restic@.service'], { allowFailure: true }).exitCode,
        ).not.toBe(0);
        expect(container.run(['test', '-f', '/etc/restic/myconf.conf']).exitCode).toBe(0);
      }),
  );
});

/** PLAY RECAP's counts for the one host. */
function recap(output: string): { ok: number; changed: number; failed: number } {
  const line = /^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)/m.exec(output);
  if (!line) throw new Error(`no PLAY RECAP for localhost in:\n${output}`);
  return { ok: Number(line[1]), changed: Number(line[2]), failed: Number(line[3]) };
}

describe.each(RELEASE_MATRIX)('%s, the Ansible role', (_name, release) => {
  let container: Container;

  beforeAll(async () => {
    container = await bootWithPackages(release);
  }, 600_000);

  afterAll(async () => {
    await container?.stop();
  }, 60_000);

  test(
    'the example playbook with its passwords from the vault converges on the first run and changes nothing on ' +
      'the second',
    () =>
      container.scenario(() => {
        // The operator's copy of contrib/ansible, an inventory, and the vault the playbook reads.
        container.run(['cp', '-r', '/opt/restic-systemd/contrib/ansible', '/root/ansible']);
        container.writeFile(
          '/root/ansible/inventory',
          'backup_hosts:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ' +
            'ansible_python_interpreter: /usr/bin/python3\n',
        );
        container.writeFile('/root/vault-password', 'vault-secret-of-the-test\n', 0o600);
        container.writeFile('/root/ansible/vault.yml', 'restic_passwords:\n  system: pw-from-the-vault-1234\n', 0o600);
        container.run([
          'ansible-vault',
          'encrypt',
          '--vault-password-file',
          '/root/vault-password',
          '/root/ansible/vault.yml',
        ]);
        expect(container.readFile('/root/ansible/vault.yml')).toMatch(/^\$ANSIBLE_VAULT/);
        const play = () =>
          container.run(
            [
              'sh',
              '-c',
              'cd /root/ansible && exec "$@"',
              'sh',
              'ansible-playbook',
              '-i',
              'inventory',
              '--vault-password-file',
              '/root/vault-password',
              '-e',
              `restic_systemd_deb=${DEBS}/restic-systemd_${VERSION}_all.deb`,
              'site.yml',
            ],
            {
              env: { ANSIBLE_NOCOLOR: '1', DEBIAN_FRONTEND: 'noninteractive' },
              allowFailure: true,
            },
          );
        const inFolder = (result: ReturnType<typeof play>) => {
          if (result.exitCode !== 0)
            throw new Error(`ansible-playbook exited ${result.exitCode}:\n${result.stdout}${result.stderr}`);
          return result.stdout;
        };
        const first = recap(inFolder(play()));
        expect(first.failed).toBe(0);
        expect(first.changed).toBeGreaterThanOrEqual(5);
        const second = inFolder(play());
        expect(recap(second)).toMatchObject({ changed: 0, failed: 0 });
        // What it made: the profile and password 0600, the repository, the timers enabled; no secret in its output.
        expect(
          container.run(['stat', '-c', '%a %U', '/etc/restic/system.conf', '/etc/restic/system.password']).stdout,
        ).toBe('600 root\n600 root\n');
        expect(container.readFile('/etc/restic/system.password')).toBe('pw-from-the-vault-1234\n');
        expect(
          container.run(['systemctl', 'is-enabled', 'restic@system.timer', 'restic-maintenance@system.timer']).stdout,
        ).toBe('enabled\nenabled\n');
        expect(container.run(['test', '-f', '/var/lib/restic/system/config']).exitCode).toBe(0);
        expect(second).not.toContain('pw-from-the-vault-1234');
        expectSucceeded(container, 'restic@system.service', startUnit(container, 'restic@system.service'));
      }),
  );
});
