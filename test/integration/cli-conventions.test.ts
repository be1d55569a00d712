/**
 * The CLI's conventions, as a new user meets them: JSON on failure, help read on real terminals,
 * completion, hints that name the right fix, sizes for people, man pages that hold what they promise.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { COMMANDS, VISIBLE_COMMANDS, commandName } from '../../src/commands/catalog.js';
import { CLI, PROJECT, runCli } from '../helpers/cli.js';
import { resticSetup } from '../helpers/restic.js';
import { removeTempRoots, snapshotTree, tempRoot, writeProfile } from '../helpers/temp-root.js';

afterAll(removeTempRoots);

const PROFILE = 'RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD=conventions-secret\n';

describe('--json', () => {
  test.each([
    ['a usage error', ['install']],
    ['an option given twice', ['status', '--root', '/', '--root', '/']],
    ['an option without its value', ['status', '--config-dir']],
  ])('on %s prints one JSON object with the error and the exit code on stdout', (_case, args) => {
    const root = tempRoot();
    const result = runCli(['--root', root, ...args, '--json']);
    expect(result.exitCode).toBe(2);
    const printed = JSON.parse(result.stdout);
    expect(printed).toEqual({ error: expect.stringMatching(/\w/), exitCode: 2 });
    // One style everywhere: pretty, two spaces.
    expect(result.stdout).toBe(`${JSON.stringify(printed, null, 2)}\n`);
  });

  test('validate of a profile that does not exist prints its report, with the problem', () => {
    const root = tempRoot();
    const result = runCli(['--root', root, 'validate', 'nosuch', '--json']);
    expect(result.exitCode).toBe(3);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ name: 'nosuch', valid: false, problems: [expect.stringContaining('no such profile')] }),
    ]);
  });

  test('a failed run prints its status, not an empty string', () => {
    const root = tempRoot();
    const result = runCli(['--root', root, 'run', 'backup', 'nosuch', '--json']);
    expect(result.exitCode).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({ profile: 'nosuch', job: 'backup', exitCode: 3 });
  });
});

describe('options and arguments', () => {
  test('an option given twice is refused, naming it (exit 2), as is an option without its value', () => {
    const root = tempRoot();
    const twice = runCli(['--root', root, '--config-dir', '/etc/restic', 'status', '--config-dir', '/etc/x']);
    expect(twice).toMatchObject({ exitCode: 2, stdout: '' });
    expect(twice.stderr).toContain('--config-dir given more than once: give it once');
    const missing = runCli(['status', '--root']);
    expect(missing).toMatchObject({ exitCode: 2, stdout: '' });
    expect(missing.stderr).toMatch(/^restic-systemd: .*root/);
    expect(missing.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  test('exec without -- says to put the command after --', () => {
    const result = runCli(['exec', 'demo', 'restic', 'snapshots', '--latest', '1']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      'put the command after --: restic-systemd exec demo -- restic snapshots --latest 1',
    );
  });

  test('render --out into a folder others can write names the folder and advises a folder of ones own', () => {
    const root = tempRoot();
    writeProfile(root, 'demo', PROFILE);
    const result = runCli(['--root', root, 'render', 'demo', '--out', '/tmp']);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('/tmp: it is writable by group or others');
    expect(result.stderr).toContain('Give a folder of your own instead');
    expect(result.stderr).not.toContain('chmod');
  });
});

describe('--help on real terminals', () => {
  // Each help is read in a tmux pane of that width, as the user sees it: wrapped by the terminal.
  let servers = 0;
  const helpOnTerminal = (args: string[], columns: number): string[] => {
    // A server of its own each time: a killed one may still hold its socket while the next starts.
    const server = `rs-help-${process.pid}-${++servers}`;
    const command = [process.execPath, CLI, ...args, '--help'].map((word) => `'${word}'`).join(' ');
    const tmux = (...words: string[]) => spawnSync('tmux', ['-L', server, ...words], { encoding: 'utf8' });
    try {
      const started = tmux(
        'new-session',
        '-d',
        '-x',
        String(columns),
        '-y',
        '400',
        `${command}; tmux -L ${server} wait-for -S shown; sleep 60`,
      );
      expect(started.stderr).toBe('');
      tmux('wait-for', 'shown');
      return tmux('capture-pane', '-p', '-S', '-', '-E', '-').stdout.split('\n');
    } finally {
      tmux('kill-server');
    }
  };

  test.each([80, 160])('at %i columns every example of every command is whole on one line', (columns) => {
    for (const spec of VISIBLE_COMMANDS) {
      const lines = helpOnTerminal([commandName(spec)], columns);
      expect(lines.some((line) => line.startsWith(`restic-systemd ${commandName(spec)}`))).toBe(true);
      for (const [example] of spec.examples) {
        expect([commandName(spec), lines.some((line) => line.trim() === `restic-systemd ${example}`)]).toEqual([
          commandName(spec),
          true,
        ]);
      }
      // Options are named with their value's word, as the man page names them.
      expect(lines.join('\n')).toMatch(/--root +DIR +Work on the system under DIR/);
    }
  });

  test('completion --help gives help; completion prints the script', () => {
    const help = runCli(['completion', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('restic-systemd completion >> ~/.bashrc');
    expect(help.stdout).not.toContain('complete -o');
    const script = runCli(['completion']);
    expect(script.exitCode).toBe(0);
    expect(script.stdout).toContain('--get-yargs-completions');
  });
});

describe('completion', () => {
  const complete = (...words: string[]) =>
    runCli(['--get-yargs-completions', 'restic-systemd', ...words])
      .stdout.split('\n')
      .filter(Boolean);

  test('completes job names after run, and profile names from the config folder where a command takes one', () => {
    const root = tempRoot();
    writeProfile(root, 'photos', PROFILE);
    writeProfile(root, 'database', PROFILE);
    expect(complete('run', '')).toEqual(expect.arrayContaining(['backup', 'maintenance', 'pg-backup', 'pg-verify']));
    expect(complete('--root', root, 'run', 'backup', '')).toEqual(expect.arrayContaining(['photos', 'database']));
    expect(complete('--root', root, 'status', 'pho')).toContain('photos');
    expect(complete('--root', root, 'restore', '')).toEqual(expect.arrayContaining(['photos', 'database']));
    // Commands that take no profile get none.
    expect(complete('--root', root, 'completion', '')).not.toContain('photos');
  });
});

describe('setup', () => {
  test('checks for foreign units before it writes anything: the profile is not created', () => {
    const root = tempRoot();
    const units = path.join(root, 'etc/systemd/system');
    fs.mkdirSync(units, { recursive: true });
    fs.writeFileSync(path.join(units, 'restic@.service'), '[Service]\nExecStart=/bin/true\n');
    const before = snapshotTree(root);
    const result = runCli(['--root', root, 'setup', 'demo', '--path', '/srv/data']);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('nothing was written');
    expect(result.stderr).toContain('/etc/systemd/system/restic@.service');
    expect(snapshotTree(root)).toEqual(before);
  });
});

describe('import under --root', () => {
  test('names the host path it looked for, and keeps --root in its next steps', () => {
    const root = tempRoot();
    const missing = runCli(['--root', root, 'import', '/etc/restic/env.sh', '--name', 'demo']);
    expect(missing.exitCode).toBe(4);
    expect(missing.stderr).toContain(`cannot read /etc/restic/env.sh (under --root: ${root}/etc/restic/env.sh)`);
    fs.writeFileSync(
      path.join(root, 'etc/restic/env.sh'),
      'export RESTIC_REPOSITORY=/srv/repo\nexport RESTIC_PASSWORD_FILE=/etc/restic/demo.password\n',
    );
    fs.writeFileSync(path.join(root, 'etc/restic/demo.password'), 'secret\n', { mode: 0o600 });
    const imported = runCli([
      '--root',
      root,
      'import',
      '/etc/restic/env.sh',
      '--name',
      'demo',
      '--path',
      '/srv',
      '--set',
      'BACKUP_KEEP_WITHIN=7d',
    ]);
    expect(imported.exitCode).toBe(0);
    expect(imported.stdout + imported.stderr).toContain(`restic-systemd --root ${root} validate demo`);
  });
});

describe('a run by hand', () => {
  test('warns of a schedule install would refuse, and still runs', () => {
    const setup = resticSetup(tempRoot(), { name: 'hand', extra: 'BACKUP_SCHEDULE=every hour\n' });
    expect(setup.init().exitCode).toBe(0);
    const result = setup.cli('run', 'backup', 'hand');
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/warning: BACKUP_SCHEDULE: "every hour" is not a valid systemd calendar expression/);
    expect(result.stderr).toContain('install would refuse it');
  });
});

describe('sizes', () => {
  test('status shows what a backup added in human units; --json keeps the exact bytes', () => {
    const setup = resticSetup(tempRoot(), { name: 'sizes' });
    fs.writeFileSync(path.join(setup.data, 'big.bin'), Buffer.alloc(300 * 1024, 7));
    expect(setup.init().exitCode).toBe(0);
    expect(setup.cli('run', 'backup', 'sizes').exitCode).toBe(0);
    const table = setup.cli('status', 'sizes');
    expect(table.stdout).toMatch(/\b\d+\.\d (KiB|MiB)\b/);
    const json = JSON.parse(setup.cli('status', 'sizes', '--json').stdout);
    const backup = json.jobs.find((job: { job: string }) => job.job === 'backup');
    expect(Number.isInteger(backup.bytesAdded)).toBe(true);
    expect(backup.bytesAdded).toBeGreaterThan(1024);
  });
});

describe('man pages', () => {
  const page = (file: string) =>
    spawnSync('groff', ['-man', '-Tutf8', '-P-cbou', path.join(PROJECT, 'man', file)], { encoding: 'utf8' }).stdout;

  test('restic-systemd(1) documents every command, completion and the files the tool uses', () => {
    const text = page('restic-systemd.1');
    for (const spec of COMMANDS.filter((command) => !command.hidden)) expect(text).toContain(commandName(spec));
    expect(text).toContain('restic-systemd completion >> ~/.bashrc');
    expect(text).toMatch(/FILES/);
    for (const file of ['/etc/restic/', '/var/cache/restic-systemd', '/etc/credstore.encrypted', '/etc/systemd/system'])
      expect(text).toContain(file);
  });

  test('restic-systemd.conf(5) has an example profile and which jobs a profile runs', () => {
    const text = page('restic-systemd.conf.5');
    expect(text).toMatch(/EXAMPLE/);
    expect(text).toMatch(/WHICH JOBS/);
    expect(text).toContain('RESTIC_REPOSITORY=');
    for (const job of ['backup', 'maintenance', 'pg-backup', 'pg-verify']) expect(text).toContain(job);
  });

  test('npm installs them (package.json man), and npm pack leaves no tarball to commit', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT, 'package.json'), 'utf8'));
    expect(manifest.man).toEqual(['man/restic-systemd.1', 'man/restic-systemd.conf.5']);
    for (const file of manifest.man) expect(fs.existsSync(path.join(PROJECT, file))).toBe(true);
    expect(fs.readFileSync(path.join(PROJECT, '.gitignore'), 'utf8').split('\n')).toContain('*.tgz');
  });
});

describe('messages name man pages, which exist after an install, not files of the repository', () => {
  test('a profile problem points to man restic-systemd.conf', () => {
    const root = tempRoot();
    writeProfile(root, 'demo', 'RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD=x\nBACKUP_COLOUR=blue\n');
    const result = runCli(['--root', root, 'validate', 'demo']);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toContain('(the keys are listed in man restic-systemd.conf)');
    expect(result.stdout + result.stderr).not.toMatch(/docs\/\S+\.md/);
  });
});
