import { escapeSpecifiers, execWord, pathListItem } from '../../src/formats/systemd-escape.js';

test('doubles % so systemd does not read a specifier', () => {
  expect(escapeSpecifiers('100%')).toBe('100%%');
});

test('an ExecStart word keeps $ literal and quotes spaces', () => {
  expect(execWord('/opt/my app/$HOME')).toBe('"/opt/my app/$$HOME"');
  expect(execWord('/usr/bin/node')).toBe('/usr/bin/node');
});

test('a path list item with spaces is quoted, with quotes and backslashes escaped', () => {
  expect(pathListItem('/srv/a b')).toBe('"/srv/a b"');
  expect(pathListItem('/srv/a"b')).toBe('"/srv/a\\"b"');
});
