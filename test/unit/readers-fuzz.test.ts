/**
 * The readers of files nobody here has seen, fed random and adversarial text (seeded, so a failure
 * reproduces): none throws, and none takes more than 5 s of CPU time per 100 KB (bounds of a hang,
 * not a benchmark: the quadratic readers of security review N5 took minutes on 200 KB).
 */
import { cronToCalendar } from '../../src/import/cron.js';
import { monotonicToCalendar } from '../../src/import/monotonic.js';
import { readResticFlags } from '../../src/import/restic-flags.js';
import { translate, type SourceVariable } from '../../src/import/translate.js';
import { isShellFile } from '../../src/import/sources.js';
import { readEnvFile } from '../../src/formats/read-env-file.js';
import { readShellFile } from '../../src/formats/read-shell-file.js';
import { splitShellWords } from '../../src/formats/shell-words.js';
import { expandExecWords, expandSpecifiers, parseUnitFile } from '../../src/formats/unit-file.js';
import { hideSecretsInLine } from '../../src/profile/secrets.js';

/** mulberry32: a small seeded generator. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Pieces the readers treat specially, so that random text reaches their corners.
const PIECES = [
  '\n',
  ' ',
  '\t',
  '=',
  '"',
  "'",
  '\\',
  '$',
  '${',
  '}',
  '(',
  ')',
  '`',
  '#',
  ';',
  '|',
  '&',
  '%',
  '%i',
  '%I',
  '@',
  'export ',
  'KEY',
  'RESTIC_REPOSITORY=',
  'BACKUP_PATHS=',
  'KEEP_DAILY=',
  'X=(',
  '--keep-',
  '--exclude',
  '-o ',
  'restic ',
  'forget ',
  'backup ',
  'pg_dump ',
  '[Service]',
  'ExecStart=',
  'OnUnitActiveSec=',
  '/srv',
  '~',
  '\u0000',
  'é',
  '\r',
  '\\\n',
  '$(',
  '*/',
  'AKIA',
  'PASSWORD=',
  'https://u:p@h/',
];

function randomText(next: () => number, length: number): string {
  let text = '';
  while (text.length < length) {
    text +=
      next() < 0.7 ? PIECES[Math.floor(next() * PIECES.length)]! : String.fromCharCode(32 + Math.floor(next() * 95));
  }
  return text;
}

const ADVERSARIAL: Array<[string, string]> = [
  ['blank lines', '\n'.repeat(200_000) + 'A=1'],
  ['blank lines with spaces', ' \n'.repeat(100_000) + 'export A=1'],
  ['backslashes', '\\'.repeat(200_000)],
  ['continued lines', 'A=x\\\n'.repeat(40_000)],
  ['quotes', '"'.repeat(100_000)],
  ['an unclosed quote', `A="${'x'.repeat(200_000)}`],
  ['dollars', '$'.repeat(200_000)],
  ['open parens', 'X=('.repeat(50_000)],
  ['specifiers', '%i%I%n'.repeat(30_000)],
  ['distinct assignments', Array.from({ length: 10_000 }, (_, i) => `K${i}=v${i}`).join('\n')],
  ['refused lines', Array.from({ length: 10_000 }, (_, i) => `echo ${i}`).join('\n')],
  ['one long line of flags', '--keep-daily 1 '.repeat(12_000)],
];

function readAll(text: string): void {
  isShellFile(text);
  const shell = readShellFile(text);
  readEnvFile(text);
  readEnvFile(text, 252);
  splitShellWords(text);
  const unit = parseUnitFile(text);
  for (const setting of unit.slice(0, 50)) expandSpecifiers(setting.value, 'restic-backup@home.service');
  expandExecWords(splitShellWords(text.slice(0, 10_000)), new Map([['A', 'x y']]));
  readResticFlags(text);
  cronToCalendar(text.slice(0, 200));
  monotonicToCalendar(text.split('\n').slice(0, 20));
  hideSecretsInLine(text);
  const variables: SourceVariable[] = shell.assignments
    .slice(0, 2000)
    .map((item) => ({ ...item, file: '/etc/restic/fuzz.sh' }));
  translate(variables, [], { name: 'fuzz', passwordFile: '/etc/restic/fuzz.password' });
}

/** CPU time, not wall time: a loaded machine (a soak beside the tests) stretches the wall clock tenfold. */
function timed(text: string): number {
  const started = process.cpuUsage();
  readAll(text);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

/**
 * 5 s per 100 KB, and at least 5 s: what it catches is backtracking that takes minutes, not speed (the benchmark's
 * concern). Well under a second each on an idle machine.
 */
const budget = (text: string) => Math.max(5000, (text.length / 100_000) * 5000);

describe('the readers of other setups under random and adversarial text', () => {
  test.each(ADVERSARIAL)('%s: no crash, within 5 s of CPU per 100 KB', (_name, text) => {
    expect(timed(text)).toBeLessThan(budget(text));
  });

  test('300 random texts of up to 20 KB: no crash, each within its bound', () => {
    const next = random(26);
    for (let round = 0; round < 300; round++) {
      const text = randomText(next, Math.floor(next() * 20_000));
      expect({ round, ms: timed(text) < budget(text) }).toEqual({ round, ms: true });
    }
  });
});
