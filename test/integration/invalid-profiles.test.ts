/**
 * Every malformed profile under fixtures/profiles/invalid/<case>/ is refused through the real CLI
 * with exactly the message in expected.txt, the documented exit code, and no file changed.
 * UPDATE_FIXTURES=1 rewrites expected.txt (review the diff before committing).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT, runCli } from '../helpers/cli.js';
import { removeTempRoots, snapshotTree, tempRoot } from '../helpers/temp-root.js';

interface Case {
  args: string[];
  exitCode: number;
  mode?: string;
  /** The profile's owner, when not root (an account of this host: nobody). */
  owner?: string;
  /** The config folder's mode, when not 0700. */
  folderMode?: string;
  extra?: Array<{ path: string; text: string; mode: string; owner?: string }>;
  symlink?: { path: string; target: string };
}

const uidOf = (user: string) => Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());

const CASES = path.join(PROJECT, 'fixtures/profiles/invalid');
const names = fs.readdirSync(CASES).sort();

afterAll(removeTempRoots);

test('there are at least 25 malformed profile cases', () => {
  expect(names.length).toBeGreaterThanOrEqual(25);
});

describe.each(names)('malformed profile %s', (name) => {
  test('is refused with the expected message and exit code, and nothing is written', () => {
    const folder = path.join(CASES, name);
    const spec = JSON.parse(fs.readFileSync(path.join(folder, 'case.json'), 'utf8')) as Case;
    const root = tempRoot();
    const profile = path.join(folder, 'profile.conf');
    if (fs.existsSync(profile)) {
      const target = path.join(root, 'etc/restic/myconf.conf');
      fs.copyFileSync(profile, target);
      fs.chmodSync(target, parseInt(spec.mode ?? '600', 8));
      if (spec.owner) fs.chownSync(target, uidOf(spec.owner), 0);
    }
    if (spec.folderMode) fs.chmodSync(path.join(root, 'etc/restic'), parseInt(spec.folderMode, 8));
    for (const extra of spec.extra ?? []) {
      const target = path.join(root, extra.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, extra.text);
      fs.chmodSync(target, parseInt(extra.mode, 8));
      if (extra.owner) fs.chownSync(target, uidOf(extra.owner), 0);
    }
    if (spec.symlink) fs.symlinkSync(spec.symlink.target, path.join(root, spec.symlink.path));
    const before = snapshotTree(root);

    const result = runCli([...spec.args, '--root', root]);

    const expectedFile = path.join(folder, 'expected.txt');
    if (process.env.UPDATE_FIXTURES) fs.writeFileSync(expectedFile, result.stderr);
    expect(result.stderr).toBe(fs.readFileSync(expectedFile, 'utf8'));
    expect(result.exitCode).toBe(spec.exitCode);
    expect(result.stdout).toBe('');
    expect(snapshotTree(root)).toEqual(before);
  });
});
