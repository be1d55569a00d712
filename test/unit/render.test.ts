/**
 * Golden files: every unit and drop-in rendered for the valid fixture profiles, compared in full
 * with fixtures/expected/<profile>/. UPDATE_FIXTURES=1 rewrites them (review the diff).
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadProfile } from '../../src/profile/load.js';
import { renderUnits } from '../../src/units/render.js';
import { PROJECT } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { removeTempRoots, tempRoot, writeProfile } from '../helpers/temp-root.js';

const PACKAGED_ENTRYPOINT = { node: '/usr/bin/node', cli: '/usr/lib/node_modules/restic-systemd/dist/cli.js' };
const VALID = path.join(PROJECT, 'fixtures/profiles/valid');
const EXPECTED = path.join(PROJECT, 'fixtures/expected');

afterAll(removeTempRoots);

function listFiles(folder: string): string[] {
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((entry) => fs.statSync(path.join(folder, entry)).isFile())
    .sort();
}

test.each(fs.readdirSync(VALID).map((file) => path.basename(file, '.conf')))(
  'the units of profile %s match the golden files',
  async (name) => {
    const root = tempRoot();
    writeProfile(root, name, fs.readFileSync(path.join(VALID, `${name}.conf`), 'utf8'));
    fs.writeFileSync(path.join(root, 'etc/restic', `${name}.password`), 'pw\n', { mode: 0o600 });
    const context = testContext(root);
    const profile = await loadProfile(name, context.paths);
    const files = renderUnits([profile], { paths: context.paths, entrypoint: PACKAGED_ENTRYPOINT });

    const golden = path.join(EXPECTED, name);
    if (process.env.UPDATE_FIXTURES) {
      fs.rmSync(golden, { recursive: true, force: true });
      for (const file of files) {
        fs.mkdirSync(path.dirname(path.join(golden, file.relativePath)), { recursive: true });
        fs.writeFileSync(path.join(golden, file.relativePath), file.text);
      }
    }
    expect(files.map((file) => file.relativePath).sort()).toEqual(listFiles(golden));
    for (const file of files) expect(file.text).toBe(fs.readFileSync(path.join(golden, file.relativePath), 'utf8'));
  },
);

test('template units hold nothing of any profile: they are the same whatever the profile', () => {
  for (const name of fs.readdirSync(EXPECTED)) {
    const templates = listFiles(path.join(EXPECTED, name)).filter((file) => file.includes('@.'));
    expect(templates).toEqual([
      'pg-backup@.service',
      'pg-backup@.timer',
      'pg-verify@.service',
      'pg-verify@.timer',
      'restic-maintenance@.service',
      'restic-maintenance@.timer',
      'restic-notify@.service',
      'restic@.service',
      'restic@.timer',
    ]);
    for (const file of templates) {
      expect(fs.readFileSync(path.join(EXPECTED, name, file), 'utf8')).toBe(
        fs.readFileSync(path.join(EXPECTED, 'myconf', file), 'utf8'),
      );
    }
  }
});
