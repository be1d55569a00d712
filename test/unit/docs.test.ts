import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { GENERATED_BLOCKS, GENERATED_DOCS } from '../../src/docs/generated.js';
import { spliceGeneratedBlock } from '../../src/docs/reference.js';
import { PROJECT } from '../helpers/cli.js';

test.each(Object.keys(GENERATED_DOCS))(
  '%s is what the code says (run npm run docs after changing the model)',
  (file) => {
    expect(fs.readFileSync(path.join(PROJECT, file), 'utf8')).toBe(GENERATED_DOCS[file]!());
  },
);

test.each(['man/restic-systemd.1', 'man/restic-systemd.conf.5'])(
  '%s is a man page groff reads without a warning',
  (file) => {
    const checked = spawnSync('groff', ['-man', '-ww', '-z', '-Tutf8', path.join(PROJECT, file)], { encoding: 'utf8' });
    expect({ status: checked.status, warnings: checked.stderr }).toEqual({ status: 0, warnings: '' });
  },
);

test.each(Object.keys(GENERATED_BLOCKS))(
  'the generated part of %s is what the code says (run npm run docs after changing the commands)',
  (file) => {
    const page = fs.readFileSync(path.join(PROJECT, file), 'utf8');
    const { id, generate } = GENERATED_BLOCKS[file]!;
    expect(page).toBe(spliceGeneratedBlock(page, id, generate()));
  },
);

test('the README and docs link only to pages that exist', () => {
  const pages = ['README.md', ...fs.readdirSync(path.join(PROJECT, 'docs')).map((page) => `docs/${page}`)];
  for (const page of pages) {
    const text = fs.readFileSync(path.join(PROJECT, page), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)#]+\.md)(#[^)]*)?\)/g)) {
      expect([page, fs.existsSync(path.join(PROJECT, path.dirname(page), target!))]).toEqual([page, true]);
    }
  }
});

test(
  'docs/migration.md shows every import fixture, each block exactly as the fixture file (and its expected ' +
    'profile)',
  () => {
    const page = fs.readFileSync(path.join(PROJECT, 'docs/migration.md'), 'utf8');
    const shown = [...page.matchAll(/<!-- fixture: (\S+) -->\n```sh\n([\s\S]*?)```\n/g)];
    for (const [, file, block] of shown)
      expect([file, block]).toEqual([file, fs.readFileSync(path.join(PROJECT, 'fixtures/import', file!), 'utf8')]);
    const layouts = fs.readdirSync(path.join(PROJECT, 'fixtures/import'));
    expect(layouts.filter((layout) => !shown.some(([, file]) => file === `${layout}/expected.conf`))).toEqual([]);
    expect(page.match(/<!-- fixture:/g)).toHaveLength(shown.length);
  },
);
