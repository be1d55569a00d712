/**
 * The text formats (src/formats/): unit files and their specifiers, shell words, time spans, and the
 * env and shell readers import uses. Pure functions on text: no file is read.
 */
import { readEnvFile } from '../../src/formats/read-env-file.js';
import { readShellFile } from '../../src/formats/read-shell-file.js';
import { splitShellWords } from '../../src/formats/shell-words.js';
import { timespanSeconds } from '../../src/formats/timespan.js';
import {
  MARKER,
  expandExecWords,
  expandSpecifiers,
  parseUnitFile,
  settingValues,
  unescapeUnitName,
  writtenByRestic,
} from '../../src/formats/unit-file.js';

describe('parseUnitFile and settingValues', () => {
  const unit = [
    '# restic-backup@.service, made by hand',
    '[Unit]',
    'Description=restic backup of %I',
    '',
    '[Service]',
    '; a comment of the other kind',
    'EnvironmentFile=-/etc/restic/restic.conf',
    'EnvironmentFile=/etc/restic/%i.env',
    'ExecStart=/usr/bin/restic backup \\',
    '    # a comment inside the command is skipped',
    '    --one-file-system \\',
    '    /home',
    '  Environment = A=1 B=2  ',
    'a line without equals sign',
    '[Timer]',
    'OnCalendar=daily',
  ].join('\n');
  const settings = parseUnitFile(unit);

  test('reads every setting with its section, in order, and skips comments, blanks and lines without "="', () => {
    expect(settings).toEqual([
      { section: 'Unit', key: 'Description', value: 'restic backup of %I' },
      { section: 'Service', key: 'EnvironmentFile', value: '-/etc/restic/restic.conf' },
      { section: 'Service', key: 'EnvironmentFile', value: '/etc/restic/%i.env' },
      { section: 'Service', key: 'ExecStart', value: '/usr/bin/restic backup --one-file-system /home' },
      { section: 'Service', key: 'Environment', value: 'A=1 B=2' },
      { section: 'Timer', key: 'OnCalendar', value: 'daily' },
    ]);
  });

  test.each<[string, string, string[]]>([
    ['Service', 'EnvironmentFile', ['-/etc/restic/restic.conf', '/etc/restic/%i.env']],
    ['Service', 'ExecStart', ['/usr/bin/restic backup --one-file-system /home']],
    ['Timer', 'OnCalendar', ['daily']],
    ['Service', 'OnCalendar', []],
    ['Install', 'WantedBy', []],
  ])('settingValues of [%s] %s are every value of that key in that section', (section, key, values) => {
    expect(settingValues(settings, section, key)).toEqual(values);
  });

  test('a setting before any section header belongs to the section ""', () => {
    expect(parseUnitFile('A=1\n[Service]\nB=2\n')).toEqual([
      { section: '', key: 'A', value: '1' },
      { section: 'Service', key: 'B', value: '2' },
    ]);
  });
});

describe('expandSpecifiers', () => {
  test.each<[string, string, string]>([
    ['%i', 'restic-backup@home.service', 'home'],
    ['%I', 'restic-backup@srv-data\\x2dold.service', 'srv/data-old'],
    ['%i', 'restic-backup@srv-data\\x2dold.service', 'srv-data\\x2dold'],
    ['%p', 'restic-backup@home.service', 'restic-backup'],
    ['%P', 'restic-backup@home.service', 'restic/backup'],
    ['%n', 'restic-backup@home.service', 'restic-backup@home.service'],
    ['%N', 'restic-backup@home.service', 'restic-backup@home'],
    ['%N', 'restic@my.conf.timer', 'restic@my.conf'],
    ['100%%', 'restic-backup@home.service', '100%'],
    ['%%i is literal', 'restic-backup@home.service', '%i is literal'],
    ['/etc/restic/%i.env', 'restic-backup@home.service', '/etc/restic/home.env'],
    ['[%i] of %p', 'restic.service', '[] of restic'],
    [
      "%h and %t are root's home and /run; %q stays",
      'restic-backup@home.service',
      "/root and /run are root's home and /run; %q stays",
    ],
    ['a % at the end stays %', 'restic-backup@home.service', 'a % at the end stays %'],
  ])('%j in %s is %j', (value, unit, expanded) => {
    expect(expandSpecifiers(value, unit)).toBe(expanded);
  });
});

describe('unescapeUnitName', () => {
  test.each<[string, string]>([
    ['home', 'home'],
    ['srv-data', 'srv/data'],
    ['srv-my\\x2dfiles', 'srv/my-files'],
    ['with\\x20space', 'with space'],
    ['a\\x5cb', 'a\\b'],
    ['caf\\xc3\\xa9', 'café'],
  ])('%s unescapes to %s', (escaped, text) => {
    expect(unescapeUnitName(escaped)).toBe(text);
  });
});

describe('expandExecWords', () => {
  const environment = new Map([
    ['PATHS', '/home  /etc'],
    ['TAG', 'nightly'],
    ['EMPTY', ''],
  ]);

  test.each<[string, string[], string[], string[]]>([
    ['a word that is only $NAME becomes its value split at blanks', ['$PATHS'], ['/home', '/etc'], []],
    ['${NAME} alone is one word with its blanks kept', ['${PATHS}'], ['/home  /etc'], []],
    ['${NAME} inside a word is replaced in place', ['--tag=${TAG}'], ['--tag=nightly'], []],
    ['$NAME inside a word is not expanded', ['--tag=$TAG'], ['--tag=$TAG'], []],
    ['an empty $NAME leaves no word', ['backup', '$EMPTY', '/srv'], ['backup', '/srv'], []],
    ['an unset $NAME leaves no word and is named', ['backup', '$NOPE'], ['backup'], ['NOPE']],
    ['an unset ${NAME} becomes empty and is named', ['x${NOPE}y', '${NOPE}'], ['xy', ''], ['NOPE']],
    ['words without $ are kept', ['/usr/bin/restic', 'backup'], ['/usr/bin/restic', 'backup'], []],
    ['$$ is a literal $', ['pa$$word', '$${TAG}'], ['pa$word', '${TAG}'], []],
  ])('%s', (_name, words, expanded, unset) => {
    expect(expandExecWords(words, environment)).toEqual({ words: expanded, unset });
  });
});

describe('writtenByRestic', () => {
  test.each<[string, string, boolean]>([
    ['the marker on the first line', `${MARKER}\n[Unit]\n`, true],
    ['the marker after a #! line (the generator script)', `#!/bin/sh\n${MARKER}\nexec true\n`, true],
    ['a hand-made unit', '[Unit]\nDescription=x\n', false],
    ['the marker further down', `[Unit]\n${MARKER}\n`, false],
    ['the marker after #! on the third line', `#!/bin/sh\n# other\n${MARKER}\n`, false],
    ['the marker in another case', '# managed by restic-systemd\n', false],
    ['an empty file', '', false],
  ])('%s: %s', (_name, text, ours) => {
    expect(writtenByRestic(text)).toBe(ours);
  });
});

describe('splitShellWords', () => {
  test.each<[string, string[]]>([
    ['--tag home  --exclude-caches', ['--tag', 'home', '--exclude-caches']],
    ['\t leading and trailing blanks \n', ['leading', 'and', 'trailing', 'blanks']],
    ['\'a b\' "c d"', ['a b', 'c d']],
    ['a\\ b', ['a b']],
    ["x'y z'w", ['xy zw']],
    ['"say \\"hi\\""', ['say "hi"']],
    ['"\\$HOME \\\\ \\n"', ['$HOME \\ \\n']],
    ["'no \\escape in single quotes'", ['no \\escape in single quotes']],
    ['\'\' ""', ['', '']],
    ['$HOME ${X}', ['$HOME', '${X}']],
    ['"never closed', ['never closed']],
    ['', []],
  ])('%j splits into %j', (text, words) => {
    expect(splitShellWords(text)).toEqual(words);
  });
});

describe('timespanSeconds', () => {
  test.each<[string, number | undefined]>([
    ['90', 90],
    ['0', 0],
    ['5min', 300],
    ['5 min', 300],
    ['1h 30min', 5400],
    ['1h30min', 5400],
    ['1.5h', 5400],
    ['500ms', 0.5],
    ['250us', 0.00025],
    ['2 weeks', 1209600],
    ['1d', 86400],
    ['1M', 2629800],
    ['1y', 31557600],
    ['  6h  ', 21600],
    ['', undefined],
    ['   ', undefined],
    ['min', undefined],
    ['5 parsecs', undefined],
    ['-5min', undefined],
    ['infinity', undefined],
    ['5min,', undefined],
  ])('%j is %s seconds', (text, seconds) => {
    expect(timespanSeconds(text)).toBe(seconds);
  });
});

describe('readEnvFile (as systemd reads EnvironmentFile=)', () => {
  const values = (text: string, systemdMajor?: number) =>
    Object.fromEntries(readEnvFile(text, systemdMajor).assignments.map((item) => [item.key, item.value]));

  test.each<[string, string, Record<string, string>]>([
    ['plain assignments', 'A=1\nB=two words\n', { A: '1', B: 'two words' }],
    ['comments of both kinds and blank lines', '# c\n; c\n\nA=1\n', { A: '1' }],
    ['blanks around the key and the value', '  A = spaced  \n', { A: 'spaced' }],
    ['double quotes, with their escapes', 'A="x y"\nB="a\\$b\\"c\\n"\n', { A: 'x y', B: 'a$b"c\\n' }],
    ['single quotes, literally', "A='$HOME \\n'\n", { A: '$HOME \\n' }],
    ['a backslash-newline continues the value', 'A=one\\\ntwo\n', { A: 'onetwo' }],
    ['a # after the value is part of it', 'A=1 # not a comment\n', { A: '1 # not a comment' }],
    ['a later assignment wins', 'A=1\nA=2\n', { A: '2' }],
    ['the last line without newline', 'A=1', { A: '1' }],
    ['an empty value', 'A=\n', { A: '' }],
  ])('reads %s', (_name, text, expected) => {
    expect(values(text)).toEqual(expected);
  });

  test('the line of each assignment is where it starts', () => {
    expect(readEnvFile('# c\n\nA="multi\nline"\nB=2\n').assignments).toEqual([
      { key: 'A', value: 'multi\nline', line: 3 },
      { key: 'B', value: '2', line: 5 },
    ]);
  });

  test.each<[string, string, string]>([
    ['export A=1', 'export A', 'systemd does not read "export NAME=…"'],
    ['not an assignment', 'not an assignment', 'no "=": systemd ignores the line'],
    ['A-B=1', 'A-B', '"A-B" is not a variable name'],
  ])('ignores %j and says why', (line, text, reason) => {
    const reading = readEnvFile(`${line}\nOK=1\n`);
    expect(reading.ignored).toEqual([{ line: 1, text, reason: expect.stringContaining(reason) }]);
    expect(reading.assignments).toEqual([{ key: 'OK', value: '1', line: 2 }]);
  });

  test('a comment ending in "\\" takes the next line before systemd 254, not from 254 on', () => {
    const text = '# comment \\\nA=1\n';
    expect(values(text, 252)).toEqual({});
    expect(values(text, 254)).toEqual({ A: '1' });
    expect(values(text)).toEqual({ A: '1' });
  });
});

describe('readShellFile (as bash would source it, running nothing)', () => {
  const values = (text: string, known?: ReadonlyMap<string, string>) =>
    Object.fromEntries(readShellFile(text, known).assignments.map((item) => [item.key, item.value]));

  test.each<[string, string, Record<string, string>]>([
    ['plain and exported assignments', 'A=1\nexport B=2\n', { A: '1', B: '2' }],
    ['declare -x and readonly', 'declare -x A=1\nreadonly B=2\n', { A: '1', B: '2' }],
    ['quotes of both kinds', 'A="x y"\nB=\'$A z\'\n', { A: 'x y', B: '$A z' }],
    ['$NAME and ${NAME} of earlier assignments', 'A=/srv\nB="$A/x"\nC=${A}y\n', { A: '/srv', B: '/srv/x', C: '/srvy' }],
    ['a comment after the value', 'A=1 # why\n# a whole comment line\n', { A: '1' }],
    ['several assignments on one line', 'A=1; B=2\nC=3 D=4\n', { A: '1', B: '2', C: '3', D: '4' }],
    ['+= appends', 'A=x\nA+=y\n', { A: 'xy' }],
    ['`export NAME` alone changes nothing', 'A=1\nexport A\n', { A: '1' }],
    ['a #! line is a comment', '#!/bin/bash\nA=1\n', { A: '1' }],
  ])('reads %s', (_name, text, expected) => {
    expect(values(text)).toEqual(expected);
  });

  test('an array keeps its words, and its value joins them with spaces', () => {
    const reading = readShellFile('PATHS=(\n  /home   # users\n  "/srv/my files"\n)\n');
    expect(reading.assignments).toEqual([
      { key: 'PATHS', value: '/home /srv/my files', words: ['/home', '/srv/my files'], line: 1 },
    ]);
    expect(reading.ignored).toEqual([]);
  });

  test('+=( … ) appends words to an array, on the line of the append', () => {
    expect(readShellFile('PATHS=(/home)\nPATHS+=(/etc /srv)\n').assignments).toEqual([
      { key: 'PATHS', value: '/home /etc /srv', words: ['/home', '/etc', '/srv'], line: 2 },
    ]);
  });

  test('variables of files read before are known', () => {
    expect(values('B="$BASE/x"\n', new Map([['BASE', '/srv']]))).toEqual({ B: '/srv/x' });
  });

  test.each<[string, string]>([
    ['A=$(hostname)', 'a command substitution $(…): import runs nothing'],
    ['A=`hostname`', 'a command substitution `…`'],
    ['A=~/backup', '"~" is the home folder of whoever ran the script'],
    ["A=$'a\\tb'", "$'…' quoting (escapes or translation)"],
    ['A=$UNSET_HERE', '$UNSET_HERE is not set in the files imported'],
    ['A=${B:-x}', 'only plain ${NAME} is read'],
    ['A="never closed', 'a quote that never closes'],
    ['echo hello', 'not an assignment (a command, a condition or a function): import runs nothing'],
    ['if true; then A=1; fi', 'not an assignment'],
    ['A=1 restic backup', 'a command after the assignments: they would set its environment only'],
    ['A=x|cat', '"|" starts a command, not a value'],
  ])('does not read %j, and names it: %s', (line, reason) => {
    const reading = readShellFile(`${line}\nOK=1\n`);
    expect(reading.ignored).toEqual([{ line: 1, text: line, reason: expect.stringContaining(reason) }]);
    expect(reading.assignments).toEqual([{ key: 'OK', value: '1', line: 2 }]);
  });

  test('a line it cannot read sets nothing, not even its first assignments', () => {
    expect(values('A=1 B=$(x)\nC="$A"\n', new Map([['A', 'before']]))).toEqual({ C: 'before' });
  });
});
