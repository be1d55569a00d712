/**
 * `import` on the layouts operators already have (fixtures/import/<layout>/: the files under
 * root/, and case.json: the command, the data, what the old setup meant). Each import must give a
 * profile whose job, run against real restic, backs up the same paths without the excluded files,
 * with the same tags, and forgets by the same rules.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, PROJECT, runCli } from '../helpers/cli.js';
import { createRepository, recordingRestic } from '../helpers/restic.js';
import { RESTIC_RELEASES } from '../helpers/restic-versions.js';
import { removeTempRoots, snapshotTree, tempRoot } from '../helpers/temp-root.js';

afterAll(removeTempRoots);

interface ImportCase {
  layout: string;
  args: string[];
  /** Arguments without which the import must block (exit 3, nothing written). */
  blockedWithout?: string[];
  password: string;
  /** Where an inline password goes. */
  passwordFile?: string;
  repository: string;
  data: Record<string, string>;
  /** files-from files to write, listing target paths (written with the root in front, as --root reads them). */
  filesFrom?: Record<string, string[]>;
  expect: {
    paths: string[];
    present: string[];
    absent: string[];
    tags?: string[];
    forget: string[];
    notInForget?: string[];
    backup?: string[];
    resticArgs?: string[];
    schedule?: string;
    next?: string[];
    keptAsOld?: string;
    installWarns?: string;
  };
}

const FIXTURES = path.join(PROJECT, 'fixtures/import');
const LAYOUTS = fs.readdirSync(FIXTURES).sort();
const release = RESTIC_RELEASES.at(-1)!;

function readCase(layout: string): ImportCase {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, layout, 'case.json'), 'utf8')) as ImportCase;
}

/** A target root holding the layout's files as an operator has them (secrets 0600, owned by root). */
function rootWith(layout: string): string {
  const root = tempRoot();
  fs.cpSync(path.join(FIXTURES, layout, 'root'), root, { recursive: true, verbatimSymlinks: true });
  for (const entry of fs.readdirSync(path.join(root, 'etc/restic'), { recursive: true, encoding: 'utf8' })) {
    const file = path.join(root, 'etc/restic', entry);
    if (fs.lstatSync(file).isFile()) fs.chmodSync(file, 0o600);
  }
  return root;
}

test('every layout of docs/migration.md has a fixture', () => {
  expect(LAYOUTS).toEqual([
    'ansible-role',
    'erikw-env-sh',
    'fedora-magazine',
    'layered-global',
    'quickvm-conf',
    'unit-flags',
  ]);
});

describe.each(LAYOUTS)('%s', (layout) => {
  const spec = readCase(layout);
  const root = rootWith(layout);
  const name = spec.args[spec.args.indexOf('--name') + 1]!;
  const { wrapper, argvLog } = recordingRestic(root, release);
  const cli = (...args: string[]) => runCli(['--root', root, ...args], { RESTIC_BIN: wrapper });
  const profile = path.join(root, 'etc/restic', `${name}.conf`);

  if (spec.blockedWithout) {
    test('without the settling arguments the import blocks: exit 3, BLOCKING named, nothing written', () => {
      const args = [...spec.args];
      const at = args.findIndex((_, index) =>
        spec.blockedWithout!.every((item, offset) => args[index + offset] === item),
      );
      args.splice(at, spec.blockedWithout!.length);
      const before = snapshotTree(root);
      const result = cli('import', ...args);
      expect(result.exitCode).toBe(3);
      expect(result.stdout).toMatch(/BLOCKING/);
      expect(result.stderr).toContain('nothing was written');
      expect(snapshotTree(root)).toEqual(before);
    });
  }

  test('--dry-run prints every decision and the profile, and writes nothing', () => {
    const before = snapshotTree(root);
    const result = cli('import', ...spec.args, '--dry-run');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toMatch(/BLOCKING/);
    expect(result.stdout).not.toContain(spec.password);
    expect(snapshotTree(root)).toEqual(before);
  });

  test(
    'the import writes a 0600 profile equal to expected.conf, the password out of it, and says what ' + 'to do next',
    () => {
      const result = cli('import', ...spec.args);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(result.stdout).not.toContain(spec.password);
      const text = fs.readFileSync(profile, 'utf8');
      const expected = path.join(FIXTURES, layout, 'expected.conf');
      if (process.env.UPDATE_FIXTURES === '1') fs.writeFileSync(expected, text);
      expect(text).toBe(fs.readFileSync(expected, 'utf8'));
      expect(fs.statSync(profile).mode & 0o777).toBe(0o600);
      expect(text).not.toContain(spec.password);
      if (spec.passwordFile) {
        const file = path.join(root, spec.passwordFile);
        expect(fs.readFileSync(file, 'utf8')).toBe(`${spec.password}\n`);
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      }
      for (const step of spec.expect.next ?? []) expect(result.stdout).toContain(`  ${step}\n`);
      if (spec.expect.schedule) expect(text).toContain(`BACKUP_SCHEDULE=${spec.expect.schedule}\n`);
      if (spec.expect.keptAsOld)
        expect(fs.readFileSync(path.join(root, spec.expect.keptAsOld), 'utf8')).toBe(
          fs.readFileSync(path.join(FIXTURES, layout, 'root', spec.expect.keptAsOld.replace(/\.old$/, '')), 'utf8'),
        );
    },
  );

  test('the imported profile validates against the repository, and install names the old timer before enabling', () => {
    createRepository(release, path.join(root, spec.repository), spec.password);
    const validate = cli('validate', name);
    expect(validate.stderr).toBe('');
    expect(validate.stdout).toContain(`${name}: valid`);
    if (spec.expect.installWarns) {
      // stdout and stderr into one file, to see what is said before what.
      const outputFile = path.join(root, 'install-output');
      const fd = fs.openSync(outputFile, 'w');
      const install = spawnSync(process.execPath, [CLI, '--root', root, 'install', name], {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, RESTIC_BIN: wrapper },
      });
      fs.closeSync(fd);
      const output = fs.readFileSync(outputFile, 'utf8');
      expect(install.status).toBe(0);
      expect(output).toMatch(
        new RegExp(
          `warning: ${spec.expect.installWarns.replace(/[.@]/g, '\\$&')} \\(enabled[^\n]*into the same repository`,
        ),
      );
      expect(output.indexOf(spec.expect.installWarns)).toBeLessThan(output.indexOf('enabled restic@'));
      const status = JSON.parse(cli('status', name, '--json').stdout) as {
        otherResticUnits: Array<{ unit: string; repository: string }>;
      };
      expect(status.otherResticUnits).toEqual([
        expect.objectContaining({ unit: spec.expect.installWarns, repository: spec.repository }),
      ]);
      expect(cli('validate', name).stdout).toContain(`  warning: ${spec.expect.installWarns} (enabled`);
    }
  });

  test(
    'its job backs up what the old setup meant with real restic: the paths, without the excluded files, with ' +
      'the tags; forget keeps by the same rules',
    () => {
      for (const [target, content] of Object.entries(spec.data)) {
        fs.mkdirSync(path.dirname(path.join(root, target)), { recursive: true });
        fs.writeFileSync(path.join(root, target), content);
      }
      for (const [file, listed] of Object.entries(spec.filesFrom ?? {}))
        fs.writeFileSync(path.join(root, file), listed.map((item) => path.join(root, item)).join('\n') + '\n', {
          mode: 0o600,
        });
      for (const folder of ['var/lib/restic-systemd', 'var/cache/restic-systemd'])
        fs.mkdirSync(path.join(root, folder), { recursive: true });
      fs.writeFileSync(argvLog, '');
      const run = cli('run', 'backup', name);
      expect({ exitCode: run.exitCode, stderr: run.stderr }).toMatchObject({ exitCode: 0 });

      const exec = (...args: string[]) => runCli(['--root', root, 'exec', name, '--', release.binary, ...args]);
      const [snapshot] = JSON.parse(exec('snapshots', '--json').stdout) as Array<{ paths: string[]; tags: string[] }>;
      expect(snapshot!.paths.sort()).toEqual(spec.expect.paths.map((item) => path.join(root, item)).sort());
      for (const tag of spec.expect.tags ?? []) expect(snapshot!.tags).toContain(tag);
      const listed = exec('ls', 'latest').stdout.split('\n');
      for (const item of spec.expect.present) expect(listed).toContain(path.join(root, item));
      for (const item of spec.expect.absent) expect(listed).not.toContain(path.join(root, item));

      const calls = fs.readFileSync(argvLog, 'utf8').split('\n');
      const forget = calls.find((line) => / forget |^forget /.test(line));
      expect(forget).toBeDefined();
      for (const rule of spec.expect.forget) expect(`${forget} `).toContain(` ${rule} `);
      for (const absent of spec.expect.notInForget ?? []) expect(forget).not.toContain(absent);
      const backup = calls.find((line) => / backup |^backup /.test(line))!;
      for (const flag of spec.expect.backup ?? []) expect(backup).toContain(flag);
      for (const flag of spec.expect.resticArgs ?? []) {
        expect(backup).toContain(flag);
        expect(forget).toContain(flag);
      }
    },
  );
});
