import { assertProfileName } from '../../src/profile/name.js';
import { allDropIns, profileOfDropInFolder } from '../../src/units/names.js';
import { nearest } from '../../src/profile/suggest.js';

test.each(['myconf', 'db-1', 'host.example_2', 'a'.repeat(64)])('accepts the profile name %j', (name) => {
  expect(() => assertProfileName(name)).not.toThrow();
});

test.each([
  '',
  '..',
  '.hidden',
  '-flag',
  'a/b',
  '../x',
  'a..b',
  'my@conf',
  'my conf',
  'a'.repeat(65),
  'tab\tname',
  'ünï',
])('refuses the profile name %j', (name) => {
  expect(() => assertProfileName(name)).toThrow(/is not allowed/);
});

test('finds the profile of each of our drop-in folders and nothing else', () => {
  for (const dropIn of allDropIns('my.conf-1')) expect(profileOfDropInFolder(dropIn.split('/')[0]!)).toBe('my.conf-1');
  expect(profileOfDropInFolder('sshd.service.d')).toBeUndefined();
  expect(profileOfDropInFolder('restic@.timer.d')).toBeUndefined();
});

test('suggests the nearest key within the distance, else nothing', () => {
  expect(nearest('BACKUP_PATH', ['BACKUP_PATHS', 'BACKUP_SCHEDULE'], 2)).toBe('BACKUP_PATHS');
  expect(nearest('TOTALLY_ELSE', ['BACKUP_PATHS'], 2)).toBeUndefined();
});
