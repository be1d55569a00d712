/**
 * The Debian package as `npm run deb` builds it: lintian finds nothing (two overrides, each
 * explained in packaging/debian/lintian-overrides), it holds what docs/packaging.md says, and the
 * bundled CLI unpacked from it finds its templates and names itself in the units it renders.
 * The end-to-end tier installs it with apt (test/e2e/debian-package.test.ts).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPackage } from '../helpers/debian-package.js';
import { removeTempRoots, tempRoot, writeProfile } from '../helpers/temp-root.js';

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-deb-'));
let deb: string;

beforeAll(() => {
  deb = buildPackage(folder);
}, 120_000);

afterAll(() => {
  fs.rmSync(folder, { recursive: true, force: true });
  removeTempRoots();
});

function run(argv: string[]) {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return { exitCode: result.status ?? 128, stdout: result.stdout, stderr: result.stderr };
}

test('lintian reports nothing, pedantic and experimental tags included', () => {
  const result = run([
    'lintian',
    '--display-info',
    '--display-experimental',
    '--pedantic',
    '--fail-on',
    'error,warning,info,pedantic',
    deb,
  ]);
  expect(`${result.stdout}${result.stderr.replace(/^running with root privileges is not recommended!\n/m, '')}`).toBe(
    '',
  );
  expect(result.exitCode).toBe(0);
}, 120_000);

test("its control fields: Debian's nodejs and restic, the optional tools suggested, for every architecture", () => {
  const field = (name: string) => run(['dpkg-deb', '-f', deb, name]).stdout.trim();
  expect(path.basename(deb)).toBe(
    `restic-systemd_${JSON.parse(fs.readFileSync('package.json', 'utf8')).version}_all.deb`,
  );
  expect(field('Depends')).toBe('nodejs (>= 18.19), restic, systemd');
  expect(field('Suggests')).toContain('postgresql-client, pigz, zstd');
  expect(field('Architecture')).toBe('all');
});

test(
  'it holds the bundled CLI with its templates, the command, man pages, completion, docs and alert rules; no ' +
    'maintainer script touches units',
  () => {
    const listing = run(['dpkg-deb', '-c', deb]).stdout;
    for (const entry of [
      './usr/lib/restic-systemd/dist/cli.js',
      './usr/lib/restic-systemd/templates/restic@.service.hbs',
      './usr/bin/restic-systemd -> ../lib/restic-systemd/dist/cli.js',
      './usr/share/man/man1/restic-systemd.1.gz',
      './usr/share/man/man5/restic-systemd.conf.5.gz',
      './usr/share/bash-completion/completions/restic-systemd',
      './usr/share/doc/restic-systemd/copyright',
      './usr/share/doc/restic-systemd/docs/user-guide.md.gz',
      './usr/share/restic-systemd/prometheus/restic-systemd.rules.yml',
    ]) {
      expect(listing).toContain(entry);
    }
    // One JavaScript file: nothing of node_modules is shipped beside it.
    expect(listing.match(/^-.*\.(m|c)?js$/gm)).toHaveLength(1);
    const control = fs.mkdtempSync(path.join(folder, 'control-'));
    run(['dpkg-deb', '-e', deb, control]);
    expect(fs.readdirSync(control).sort()).toEqual(['control', 'md5sums', 'prerm']);
    // It only speaks: no command of it changes a unit (echo lines name the command to run).
    expect(fs.readFileSync(path.join(control, 'prerm'), 'utf8')).not.toMatch(
      /^\s*(systemctl|deb-systemd-\w+|restic-systemd|\/usr\/bin\/restic-systemd)\b/m,
    );
  },
);

test('the bundled CLI, unpacked, finds its templates and renders units that run it', () => {
  const unpacked = fs.mkdtempSync(path.join(folder, 'x-'));
  run(['dpkg-deb', '-x', deb, unpacked]);
  const cli = path.join(unpacked, 'usr/lib/restic-systemd/dist/cli.js');
  expect(run([process.execPath, cli, '--version']).stdout.trim()).toBe(
    JSON.parse(fs.readFileSync('package.json', 'utf8')).version,
  );
  const root = tempRoot();
  fs.writeFileSync(path.join(root, 'etc/restic/demo.password'), 'pw\n', { mode: 0o600 });
  writeProfile(
    root,
    'demo',
    'RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_FILE=/etc/restic/demo.password\nBACKUP_PATHS=/data\n',
  );
  const rendered = run([process.execPath, cli, '--root', root, 'render', 'demo']);
  expect(rendered.stderr).toBe('');
  expect(rendered.stdout).toContain(
    `ExecStart=${fs.realpathSync(process.execPath)} ${cli} --config-dir /etc/restic run backup %i`,
  );
  // The units' own command line takes the short path (no yargs): a bad name is refused the same way.
  const refused = run([process.execPath, cli, '--root', root, 'run', 'backup', 'no/such']);
  expect(refused.exitCode).toBe(2);
  expect(refused.stderr).toContain('profile name "no/such" is not allowed');
});
