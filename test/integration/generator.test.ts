/**
 * The guide's flow without `install`: restic-systemd's systemd generator (`generate`) writes the
 * drop-ins of every profile, and a job started by systemd compares its units with its profile.
 * Real files, real systemd-analyze verify, real restic; the end-to-end tier runs the same flow in
 * a real systemd.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRunner } from '../../src/exec/runner.js';
import { verifyUnits } from '../../src/tools/systemd-analyze.js';
import { memoryLogger } from '../../src/log.js';
import { runCli } from '../helpers/cli.js';
import { resticSetup } from '../helpers/restic.js';
import { RESTIC_RELEASES } from '../helpers/restic-versions.js';
import { removeTempRoots, tempRoot, writeProfile } from '../helpers/temp-root.js';

afterAll(removeTempRoots);

const release = RESTIC_RELEASES.find((candidate) => candidate.suite === 'trixie')!;

/** A root where `install` ran for another profile (templates and generator in place), and an output folder for the
 * generator. */
function hostWithTemplates() {
  const root = tempRoot();
  writeProfile(root, 'first', 'RESTIC_REPOSITORY=/srv/first\nRESTIC_PASSWORD=first-password-1\n');
  expect(runCli(['--root', root, 'install', 'first']).exitCode).toBe(0);
  const output = path.join(root, 'run/systemd/generator');
  fs.mkdirSync(output, { recursive: true });
  return {
    root,
    output,
    generate: () => runCli(['--root', root, 'generate', output, `${output}.early`, `${output}.late`]),
  };
}

test(
  'generate writes the drop-ins of a profile that was never installed, and systemd-analyze verify accepts the ' +
    'units they make',
  async () => {
    const { root, output, generate } = hostWithTemplates();
    writeProfile(
      root,
      'second',
      'RESTIC_REPOSITORY=/srv/restic-repo\nRESTIC_PASSWORD_FILE=/etc/restic/second.password\n' +
        'BACKUP_PATHS=/media/second\n',
    );
    fs.writeFileSync(path.join(root, 'etc/restic/second.password'), 'pw-second\n', { mode: 0o600 });
    const result = generate();
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    const service = fs.readFileSync(path.join(output, 'restic@second.service.d/50-restic-systemd.conf'), 'utf8');
    expect(service).toContain('ReadWritePaths=-/srv/restic-repo');
    expect(service).toMatch(/^Environment=RESTIC_SYSTEMD_UNIT_SETTINGS=\S+$/m);
    // The guide's defaults: hourly.
    expect(fs.readFileSync(path.join(output, 'restic@second.timer.d/50-restic-systemd.conf'), 'utf8')).toContain(
      'OnCalendar=hourly',
    );
    // The generated drop-ins with the installed templates: what systemd would load.
    const check = fs.mkdtempSync(path.join(root, 'verify-'));
    for (const file of ['restic@.service', 'restic@.timer'])
      fs.copyFileSync(path.join(root, 'etc/systemd/system', file), path.join(check, file));
    fs.cpSync(path.join(output, 'restic@second.service.d'), path.join(check, 'restic@second.service.d'), {
      recursive: true,
    });
    fs.cpSync(path.join(output, 'restic@second.timer.d'), path.join(check, 'restic@second.timer.d'), {
      recursive: true,
    });
    expect(
      await verifyUnits(createRunner(memoryLogger()), [
        path.join(check, 'restic@second.service'),
        path.join(check, 'restic@second.timer'),
      ]),
    ).toBe('');
  },
);

test(
  'generate skips a profile it cannot read, names it on stderr, writes the others, and exits 0 (a generator ' +
    'never stops systemd)',
  () => {
    const { root, output, generate } = hostWithTemplates();
    writeProfile(root, 'broken', 'RESTIC_REPOSITORY=/srv/x\nBACKUP_SCHEDULE=every full moon\n');
    fs.writeFileSync(path.join(root, 'etc/restic', 'not a profile name.conf'), 'RESTIC_REPOSITORY=/srv/y\n', {
      mode: 0o600,
    });
    const result = generate();
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('no drop-ins for profile broken');
    expect(result.stderr).toContain('is left out: "not a profile name" is not an allowed profile name');
    expect(fs.existsSync(path.join(output, 'restic@broken.service.d'))).toBe(false);
    expect(fs.existsSync(path.join(output, 'restic@first.service.d/50-restic-systemd.conf'))).toBe(true);
  },
);

describe('a job started by systemd checks its units against its profile', () => {
  /** The environment systemd gives restic@<name>.service: the profile's variables and, from the drop-in, its recorded
   * settings. */
  function systemdEnvironment(root: string, name: string, dropIn: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { INVOCATION_ID: 'test-invocation' };
    for (const line of fs
      .readFileSync(path.join(root, 'etc/restic', `${name}.conf`), 'utf8')
      .split('\n')
      .filter(Boolean)) {
      const [key, ...value] = line.split('=');
      env[key!] = value.join('=');
    }
    const recorded = /^Environment=(RESTIC_SYSTEMD_UNIT_SETTINGS)=(\S+)$/m.exec(fs.readFileSync(dropIn, 'utf8'));
    if (recorded) env[recorded[1]!] = recorded[2]!;
    return env;
  }

  test(
    'a schedule edited after install: the run goes on, says what differs and what to run; status and validate ' +
      'show it until install',
    () => {
      const setup = resticSetup(tempRoot(), { release });
      setup.createRepository();
      expect(setup.cli('install', setup.name).exitCode).toBe(0);
      fs.appendFileSync(path.join(setup.root, 'etc/restic/myconf.conf'), 'BACKUP_SCHEDULE=daily\n');
      const dropIn = path.join(setup.root, 'etc/systemd/system/restic@myconf.service.d/50-restic-systemd.conf');
      const run = runCli(['--root', setup.root, 'run', 'backup', setup.name], {
        ...setup.env,
        ...systemdEnvironment(setup.root, setup.name, dropIn),
      });
      expect(run.exitCode).toBe(0);
      expect(run.stderr).toContain(
        'warning: the units differ from /etc/restic/myconf.conf: BACKUP_SCHEDULE is "daily" in the profile, but ' +
          'the units run with "hourly"',
      );
      expect(run.stderr).toContain('run: restic-systemd install myconf');
      const status = setup.cli('status', setup.name);
      expect(status.exitCode).toBe(8);
      expect(status.stdout).toContain('the profile was changed after install (BACKUP_SCHEDULE is "daily"');
      const validate = setup.cli('validate', setup.name);
      expect(validate.exitCode).toBe(3);
      expect(validate.stdout).toContain(
        'backup: the profile was changed after install (BACKUP_SCHEDULE is "daily" in the profile, but the ' +
          'units run with "hourly"): run restic-systemd install myconf',
      );
      expect(setup.cli('install', setup.name).exitCode).toBe(0);
      expect(setup.cli('validate', setup.name).exitCode).toBe(0);
      expect(setup.cli('status', setup.name).exitCode).toBe(0);
    },
  );

  test(
    'a profile that was never installed nor generated runs (outside a sandbox its repository is writable) and ' +
      'says its units carry no settings',
    async () => {
      const setup = resticSetup(tempRoot(), { release });
      setup.createRepository();
      const env = {
        ...setup.env,
        INVOCATION_ID: 'test-invocation',
        RESTIC_REPOSITORY: '/srv/repo',
        RESTIC_PASSWORD_FILE: '/etc/restic/myconf.password',
        BACKUP_PATHS: '/data',
      };
      const run = runCli(['--root', setup.root, 'run', 'backup', setup.name], env);
      expect(run.exitCode).toBe(0);
      expect(run.stderr).toContain('the units of myconf carry no settings of its profile: it was never installed');
    },
  );
});
