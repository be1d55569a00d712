/**
 * The security review's findings that only a running systemd can show, on Debian 12 (systemd 252)
 * and Debian 13 (systemd 257): F2, the profile reader against systemd's own EnvironmentFile= on
 * every fixture and on a set of tricky lines; F4, a profile handed to another account after
 * install is refused by the unit before anything runs; F8, install fails when systemd refuses what
 * was installed, and status flags a timer that will never run its job; N1, node started clean by a unit whose
 * profile gained NODE_OPTIONS or LD_PRELOAD after install.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readEnvFile } from '../../src/formats/read-env-file.js';
import { isShellFile } from '../../src/import/sources.js';
import { parseEnvFile } from '../../src/profile/envfile.js';
import { PROJECT } from '../helpers/cli.js';
import { Container } from './harness/container.js';
import { RELEASE_MATRIX } from './harness/rootfs.js';
import { journalShowing, startUnit } from './harness/units.js';

/** Lines on which env-file readers are known to differ, or might: each is a file of its own. */
const TRICKY_LINES = [
  'A=plain',
  'A="double quoted"',
  "A='single quoted'",
  'A= leading space',
  'A=trailing space ',
  'A="a"b',
  'A=a"b"',
  "A='it''s'",
  'A="with # hash"',
  'A=with#hash',
  'A=with #hash',
  'A=semi;colon',
  'A=semi ;colon',
  '  A=indented',
  'A =spaced',
  'A= ',
  'A=x=y',
  'A=',
  'A=""',
  "A=''",
  'A=%h',
  'A=ümlaut',
  "A='a b' c",
  'A="unterminated',
  "A='unterminated",
  '# comment \\\nB=1',
  '; comment \\\nB=1',
  '#A=commented\nB=2',
  'A=tab\tinside',
  'A=1\nA=2',
  'export A=1',
  'A',
  '=value',
  '1A=x',
  'A-B=x',
  'A.B=x',
  'A="multi\nline"',
  "A='multi\nline'",
  'A=x\\\nB=y',
  'A=back\\slash',
  'A="back\\"slash"',
  '[Service]\nA=1',
  'A=1 # trailing comment',
  'A="1" # trailing comment',
];

interface Input {
  name: string;
  bytes: Buffer;
}

/** The env files of the import fixtures (fixtures/import/<layout>/root), and the profiles import wrote from them. */
function importInputs(): Input[] {
  const fixtures = path.join(PROJECT, 'fixtures/import');
  const found: Input[] = [];
  for (const layout of fs.readdirSync(fixtures)) {
    const expected = path.join(fixtures, layout, 'expected.conf');
    if (fs.existsSync(expected))
      found.push({ name: `import/${layout}/expected.conf`, bytes: fs.readFileSync(expected) });
    const root = path.join(fixtures, layout, 'root');
    for (const entry of fs.readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      const file = path.join(root, entry);
      if (!fs.lstatSync(file).isFile() || /\.(service|timer)$/.test(entry)) continue;
      const text = fs.readFileSync(file, 'utf8');
      if (!isShellFile(text) && /^[A-Za-z_][A-Za-z0-9_]*=/m.test(text))
        found.push({ name: `import/${layout}/${entry}`, bytes: Buffer.from(text) });
    }
  }
  return found;
}

/** Every fixture profile (valid and invalid), every import fixture's env file, and every tricky line. */
function inputs(): Input[] {
  const fixtures = path.join(PROJECT, 'fixtures/profiles');
  const found: Input[] = importInputs();
  for (const file of fs.readdirSync(path.join(fixtures, 'valid')))
    found.push({ name: `valid/${file}`, bytes: fs.readFileSync(path.join(fixtures, 'valid', file)) });
  for (const name of fs.readdirSync(path.join(fixtures, 'invalid'))) {
    const file = path.join(fixtures, 'invalid', name, 'profile.conf');
    if (fs.existsSync(file)) found.push({ name: `invalid/${name}`, bytes: fs.readFileSync(file) });
  }
  TRICKY_LINES.forEach((line, index) =>
    found.push({ name: `line ${index}: ${JSON.stringify(line)}`, bytes: Buffer.from(`${line}\n`) }),
  );
  return found;
}

/** What the reader accepts from a file: its values, or undefined when it refuses a line of it. */
function readerAccepts(bytes: Buffer): Record<string, string> | undefined {
  const read = parseEnvFile(bytes, 'profile');
  if (read.issues.length > 0) return undefined;
  return Object.fromEntries([...read.entries].map(([key, entry]) => [key, entry.value]));
}

/** The file without the lines the reader refused (blanked, so line numbers stay), when it refused only lines. */
function withoutRefusedLines(bytes: Buffer): Buffer | undefined {
  const read = parseEnvFile(bytes, 'profile');
  if (read.unreadable || read.issues.length === 0 || read.issues.some((issue) => issue.line === undefined))
    return undefined;
  const refused = new Set(read.issues.map((issue) => issue.line));
  const lines = bytes.toString('utf8').split('\n');
  // A refused line continued with "\\" takes its continuation lines along.
  lines.forEach((line, index) => {
    if (refused.has(index + 1) && line.endsWith('\\') && index + 1 < lines.length) refused.add(index + 2);
  });
  return Buffer.from(lines.map((line, index) => (refused.has(index + 1) ? '' : line)).join('\n'));
}

describe.each(RELEASE_MATRIX)('%s', (_name, release) => {
  let container: Container;

  beforeAll(async () => {
    container = await Container.boot(release);
  }, 600_000);

  afterAll(async () => {
    await container?.stop();
  }, 60_000);

  /** What systemd's EnvironmentFile= gives a service from each file: one transient service per file. */
  function systemdReads(files: Buffer[]): Array<Record<string, string> | undefined> {
    files.forEach((bytes, index) => container.writeFile(`/root/envfiles/${index}.env`, bytes.toString('utf8'), 0o600));
    const script = `
      run() { systemd-run --wait --pipe --quiet --collect -p "EnvironmentFile=$1" /usr/bin/env -0; }
      : > /root/envfiles/empty
      run /root/envfiles/empty; printf '\\001end baseline\\001'
      i=0
      while [ $i -lt ${files.length} ]; do
        run /root/envfiles/$i.env || printf '\\001failed\\001'; printf '\\001end\\001'; i=$((i + 1))
      done`;
    const output = container.sh(script).stdout;
    const [baselineText, rest] = output.split('\u0001end baseline\u0001') as [string, string];
    const parse = (text: string) =>
      Object.fromEntries(
        text
          .split('\0')
          .filter(Boolean)
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );
    const baseline = parse(baselineText);
    return rest
      .split('\u0001end\u0001')
      .slice(0, files.length)
      .map((text, index) => {
        if (text.includes('\u0001failed\u0001')) return undefined;
        const source = files[index]!.toString('utf8');
        // The service's own variables (INVOCATION_ID, PATH…) are left out, unless the file sets them.
        return Object.fromEntries(
          Object.entries(parse(text)).filter(
            ([key, value]) =>
              !(key in baseline) || (baseline[key] !== value && new RegExp(`^\\s*${key}\\s*=`, 'm').test(source)),
          ),
        );
      });
  }

  test(
    'F2: wherever the reader accepts a file, or what is left of it once its refused lines are taken out, ' +
      'systemd reads the same variables and values',
    () =>
      container.scenario(() => {
        const all = inputs();
        const checked: Array<{ name: string; bytes: Buffer; ours: Record<string, string> }> = [];
        for (const input of all) {
          const ours = readerAccepts(input.bytes);
          if (ours) checked.push({ name: input.name, bytes: input.bytes, ours });
          const rest = withoutRefusedLines(input.bytes);
          if (rest) {
            const oursOfRest = readerAccepts(rest);
            expect({ name: input.name, leftAfterRefusedLines: oursOfRest !== undefined }).toEqual({
              name: input.name,
              leftAfterRefusedLines: true,
            });
            checked.push({ name: `${input.name} without its refused lines`, bytes: rest, ours: oursOfRest! });
          }
        }
        expect(checked.length).toBeGreaterThan(60);
        const theirs = systemdReads(checked.map((item) => item.bytes));
        for (const [index, item] of checked.entries())
          expect({ name: item.name, values: theirs[index] }).toEqual({ name: item.name, values: item.ours });
      }),
  );

  test(
    'import reads every env file exactly as this systemd does, key by key: every fixture, every import fixture, ' +
      'every tricky line',
    () =>
      container.scenario(() => {
        const systemdMajor = Number(/^systemd (\d+)/.exec(container.run(['systemctl', '--version']).stdout)![1]);
        // Files no reader takes as text (binary, not UTF-8, a byte-order mark) are the profile reader's to refuse, not
        // import's.
        const isText = (bytes: Buffer) =>
          !bytes.includes(0) &&
          Buffer.from(bytes.toString('utf8')).equals(bytes) &&
          !bytes.toString('utf8').startsWith('\uFEFF');
        const all = inputs().filter((input) => isText(input.bytes));
        expect(all.length).toBeGreaterThan(100);
        const theirs = systemdReads(all.map((input) => input.bytes));
        for (const [index, input] of all.entries()) {
          if (theirs[index] === undefined) continue;
          const ours = Object.fromEntries(
            readEnvFile(input.bytes.toString('utf8'), systemdMajor).assignments.map((item) => [item.key, item.value]),
          );
          expect({ name: input.name, values: ours }).toEqual({ name: input.name, values: theirs[index] });
        }
      }),
  );

  test(
    'F2: a comment ending in "\\" hides the next line from systemd 252 (refused, so no profile can rely on ' +
      'either reading)',
    () =>
      container.scenario(() => {
        const bytes = fs.readFileSync(
          path.join(PROJECT, 'fixtures/profiles/invalid/comment-ending-in-backslash/profile.conf'),
        );
        const [theirs] = systemdReads([bytes]);
        expect(readerAccepts(bytes)).toBeUndefined();
        const systemdMajor = Number(/^systemd (\d+)/.exec(container.run(['systemctl', '--version']).stdout)![1]);
        expect(theirs!.BACKUP_KEEP_WITHIN).toBe(systemdMajor < 254 ? undefined : '30d');
      }),
  );

  test(
    'F4: a profile given to another account after install is refused by its unit (exit 3) before ' + 'anything runs',
    () =>
      container.scenario(async () => {
        container.writeFile(
          '/usr/local/sbin/restic-password',
          '#!/bin/sh\ntouch /run/password-command-ran\necho e2e-password-f4\n',
          0o755,
        );
        container.writeFile(
          '/etc/restic/f4.conf',
          'RESTIC_REPOSITORY=/var/lib/restic/f4\n' +
            'RESTIC_PASSWORD_COMMAND=/usr/local/sbin/restic-password\nBACKUP_PATHS=/etc/hostname\n',
          0o600,
        );
        container.run(['restic-systemd', 'init', 'f4']);
        container.run(['restic-systemd', 'install', 'f4']);
        container.run(['rm', '-f', '/run/password-command-ran']);
        for (const change of [
          ['chown', 'nobody', '/etc/restic/f4.conf'],
          ['chmod', '0666', '/etc/restic/f4.conf'],
        ]) {
          container.run(change);
          const run = startUnit(container, 'restic@f4.service');
          expect({ change: change.join(' '), ...run }).toEqual({
            change: change.join(' '),
            result: 'exit-code',
            exitStatus: '3',
          });
          expect(container.run(['test', '-e', '/run/password-command-ran'], { allowFailure: true }).exitCode).toBe(1);
          container.run(['chown', 'root:root', '/etc/restic/f4.conf']);
          container.run(['chmod', '0600', '/etc/restic/f4.conf']);
        }
        await journalShowing(container, 'restic@f4.service', ['belongs to uid 65534, not to root']);
        container.run(['restic-systemd', 'uninstall', 'f4']);
      }),
  );

  test(
    'N1: NODE_OPTIONS and LD_PRELOAD added to a profile after install: node starts clean (the unit unsets them) ' +
      'and the job refuses the profile (exit 3)',
    () =>
      container.scenario(async () => {
        const lines = ['RESTIC_REPOSITORY=/var/lib/restic/n1', 'BACKUP_PATHS=/etc/hostname'];
        container.writeProfile('n1', lines, 'e2e-password-n1');
        container.run(['restic-systemd', 'init', 'n1']);
        container.run(['restic-systemd', 'install', 'n1']);
        container.writeFile('/usr/local/lib/n1.js', "require('fs').writeFileSync('/run/n1-node-options-ran', '');\n");
        const added = ['NODE_OPTIONS=--require=/usr/local/lib/n1.js', 'LD_PRELOAD=/usr/local/lib/n1.so'];
        container.writeFile(
          '/etc/restic/n1.conf',
          ['RESTIC_PASSWORD_FILE=/etc/restic/n1.password', ...lines, ...added, ''].join('\n'),
          0o600,
        );
        const run = startUnit(container, 'restic@n1.service');
        expect(run).toEqual({ result: 'exit-code', exitStatus: '3' });
        expect(container.run(['test', '-e', '/run/n1-node-options-ran'], { allowFailure: true }).exitCode).toBe(1);
        const journal = await journalShowing(container, 'restic@n1.service', [
          /NODE_OPTIONS: chooses which program root runs/,
          /LD_PRELOAD: chooses which program root runs/,
        ]);
        expect(journal).not.toContain('cannot be preloaded');
        container.run(['restic-systemd', 'uninstall', 'n1']);
      }),
  );

  test(
    'F8: install fails (exit 5) when systemd refuses a unit it installed; status flags a timer that will never ' +
      'start its job',
    () =>
      container.scenario(() => {
        container.writeProfile(
          'f8',
          ['RESTIC_REPOSITORY=/var/lib/restic/f8', 'BACKUP_PATHS=/etc/hostname'],
          'e2e-password-f8',
        );
        container.run(['restic-systemd', 'init', 'f8']);
        // An operator's drop-in that empties the timer's calendar: systemd refuses such a timer.
        const badDropIn = '/etc/systemd/system/restic@f8.timer.d/99-local.conf';
        container.writeFile(badDropIn, '[Timer]\nOnCalendar=\n');
        const fresh = container.run(['restic-systemd', 'install', 'f8'], { allowFailure: true });
        expect(fresh.exitCode).toBe(5);
        expect(fresh.stderr).toContain('restic@f8.timer has a bad unit file setting');
        // Installed and enabled already, then changed: no enable to fail, install asks systemd what it loaded.
        container.run(['rm', badDropIn]);
        container.run(['restic-systemd', 'install', 'f8']);
        container.writeFile(badDropIn, '[Timer]\nOnCalendar=\n');
        container.writeProfile(
          'f8',
          ['RESTIC_REPOSITORY=/var/lib/restic/f8', 'BACKUP_PATHS=/etc/hostname', 'BACKUP_SCHEDULE=daily'],
          'e2e-password-f8',
        );
        const changed = container.run(['restic-systemd', 'install', 'f8'], { allowFailure: true });
        expect(changed.exitCode).toBe(5);
        expect(changed.stderr).toContain('restic@f8.timer: bad-setting');
        container.run(['rm', badDropIn]);
        container.run(['systemctl', 'daemon-reload']);
        container.run(['systemctl', 'restart', 'restic@f8.timer']);
        // Never run, timer waiting: healthy. Timer stopped: it never will run, which status says.
        expect(container.run(['restic-systemd', 'status', 'f8'], { allowFailure: true }).exitCode).toBe(0);
        container.run(['systemctl', 'stop', 'restic@f8.timer']);
        const status = container.run(['restic-systemd', 'status', 'f8'], { allowFailure: true });
        expect(status.exitCode).toBe(8);
        expect(status.stdout + status.stderr).toContain(
          'never run, and restic@f8.timer has no next run: systemctl enable --now restic@f8.timer',
        );
        container.run(['restic-systemd', 'uninstall', 'f8']);
      }),
  );
});
