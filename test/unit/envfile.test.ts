import { parseEnvFile } from '../../src/profile/envfile.js';

const read = (text: string) => parseEnvFile(Buffer.from(text), '/etc/restic/t.conf');
const values = (text: string) => Object.fromEntries([...read(text).entries].map(([key, entry]) => [key, entry.value]));

test('reads KEY=VALUE lines as systemd does, skipping comments and blank lines', () => {
  expect(values('# comment\n; also a comment\n\nA=1\nB=x=y\nC=\n')).toEqual({ A: '1', B: 'x=y', C: '' });
});

test('keeps true, false and null as text where ini would turn them into other types', () => {
  expect(values('A=true\nB=false\nC=null\n')).toEqual({ A: 'true', B: 'false', C: 'null' });
});

test('removes matching quotes around a value, so a quoted # or ; is kept whole', () => {
  expect(values('A="abc#123"\nB=\'x;y\'\nC="two words"\n')).toEqual({ A: 'abc#123', B: 'x;y', C: 'two words' });
});

test('keeps $ and quotes inside an unquoted value literally', () => {
  expect(values('A=$HOME/x\nB=it"s\n')).toEqual({ A: '$HOME/x', B: 'it"s' });
});

test('records the line of each key', () => {
  expect(read('# c\n\nA=1\nB=2\n').entries.get('B')?.line).toBe(4);
});

test('a refused line leaves its key out and marks it as refused, not missing', () => {
  const file = read('A=abc#def\nB=ok\n');
  expect(file.entries.has('A')).toBe(false);
  expect(file.refusedKeys.has('A')).toBe(true);
  expect(file.issues).toHaveLength(1);
  expect(file.issues[0]).toMatchObject({ line: 1, key: 'A' });
});

test('refuses the whole file when it is not UTF-8 text, without reading lines', () => {
  const file = parseEnvFile(Buffer.from([0x41, 0x3d, 0xff, 0x0a]), 'f');
  expect(file.unreadable).toBe(true);
  expect(file.entries.size).toBe(0);
});
