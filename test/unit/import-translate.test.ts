/**
 * The import's translation (src/import/translate.ts) from the variables and units readSources()
 * (src/import/sources.ts) gives it, and its helpers: restic's flags (restic-flags.ts) and cron
 * schedules (cron.ts). No file is read: the sources are written here as readSources() returns them.
 */
import { cronToCalendar } from '../../src/import/cron.js';
import { emptySettings, readResticFlags, readResticWords } from '../../src/import/restic-flags.js';
import {
  translate,
  type Decision,
  type SourceVariable,
  type TranslateOptions,
  type UnitSource,
} from '../../src/import/translate.js';

const FILE = '/etc/restic/old.env';
const OPTIONS: TranslateOptions = { name: 'home', passwordFile: '/etc/restic/home.password' };

/** A variable as readSources() gives it: its file and line, and an array's words. */
function variable(key: string, value: string, line = 1, file = FILE, words?: string[]): SourceVariable {
  return { key, value, file, line, ...(words ? { words } : {}) };
}

const REPOSITORY = variable('RESTIC_REPOSITORY', '/srv/restic-repo', 1);
const PASSWORD_FILE = variable('RESTIC_PASSWORD_FILE', '/etc/restic/old.password', 2);
const BASE = [REPOSITORY, PASSWORD_FILE];
const BASE_ENTRIES = { RESTIC_REPOSITORY: '/srv/restic-repo', RESTIC_PASSWORD_FILE: '/etc/restic/old.password' };

/** A unit with restic command lines, as readSources() reads a hand-made restic-backup@.service. */
function unit(commands: string[], timer?: UnitSource['timer']): UnitSource {
  return {
    service: 'restic-backup@home.service',
    file: '/etc/systemd/system/restic-backup@.service',
    commands,
    ...(timer ? { timer } : {}),
  };
}

interface Case {
  name: string;
  variables: SourceVariable[];
  units?: UnitSource[];
  options?: Partial<TranslateOptions>;
  /** Every entry of the profile. */
  entries: Record<string, string>;
  /** Decisions that must be among those made (outcome, and a part of why). */
  decisions?: Array<Pick<Decision, 'outcome'> & { why: string; to?: string }>;
  /** No decision blocks the import. */
  blocks?: boolean;
}

const CASES: Case[] = [
  {
    name: "another layout's paths become BACKUP_PATHS",
    variables: [...BASE, variable('RESTIC_BACKUP_PATHS', '/home /etc', 3)],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home /etc' },
    decisions: [{ outcome: 'translated', why: 'what to back up', to: 'BACKUP_PATHS=/home /etc' }],
  },
  {
    name: 'a ":"-separated path list (erikw\'s layout) is split into paths',
    variables: [...BASE, variable('RESTIC_BACKUP_PATHS', '/home:/etc', 3)],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home /etc' },
    decisions: [{ outcome: 'translated', why: 'a ":"-separated list of paths' }],
  },
  {
    name: "another layout's excludes become BACKUP_EXCLUDE, flags or patterns alike",
    variables: [
      ...BASE,
      variable('BACKUP_PATHS', '/home', 3),
      variable('RESTIC_BACKUP_EXCLUDES', '*.tmp /home/*/.cache', 4),
      variable('EXCLUDES', '--exclude=*.iso --exclude-caches', 5),
    ],
    entries: {
      ...BASE_ENTRIES,
      BACKUP_PATHS: '/home',
      BACKUP_EXCLUDE: '*.tmp /home/*/.cache *.iso',
      BACKUP_EXCLUDE_CACHES: 'yes',
    },
    decisions: [
      { outcome: 'translated', why: 'what to leave out', to: 'BACKUP_EXCLUDE=*.tmp /home/*/.cache' },
      { outcome: 'translated', why: 'what to leave out', to: 'BACKUP_EXCLUDE=*.iso, BACKUP_EXCLUDE_CACHES=yes' },
    ],
  },
  {
    name: 'an exclude file named relatively is taken from the folder of the file naming it',
    variables: [...BASE, variable('BACKUP_PATHS', '/home', 3), variable('RESTIC_EXCLUDE_FILE', 'excludes.txt', 4)],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home', BACKUP_EXCLUDE_FILE: '/etc/restic/excludes.txt' },
    decisions: [{ outcome: 'translated', why: 'excludes.txt: a relative file, taken from /etc/restic' }],
  },
  {
    name: "another layout's retention keys become BACKUP_KEEP_*, and empty the default BACKUP_KEEP_WITHIN",
    variables: [
      ...BASE,
      variable('BACKUP_PATHS', '/home', 3),
      variable('RETENTION_DAYS', '7', 4),
      variable('RETENTION_WEEKS', '4', 5),
      variable('RESTIC_KEEP_MONTHLY', '12', 6),
    ],
    entries: {
      ...BASE_ENTRIES,
      BACKUP_PATHS: '/home',
      BACKUP_KEEP_WITHIN: '',
      BACKUP_KEEP_DAILY: '7',
      BACKUP_KEEP_WEEKLY: '4',
      BACKUP_KEEP_MONTHLY: '12',
    },
    decisions: [
      { outcome: 'translated', why: "the retention (restic forget's --keep rules)", to: 'BACKUP_KEEP_DAILY=7' },
      { outcome: 'translated', why: 'the imported rules replace the default (keep 7 days)', to: 'BACKUP_KEEP_WITHIN=' },
    ],
  },
  {
    name: 'a restic forget flag set becomes the rules it expresses; --prune and --group-by are said, not kept',
    variables: [
      ...BASE,
      variable('BACKUP_PATHS', '/home', 3),
      variable('RESTIC_FORGET_ARGS', '--keep-daily 7 --keep-weekly=4 --keep-within-daily 30d --prune -g host', 4),
    ],
    entries: {
      ...BASE_ENTRIES,
      BACKUP_PATHS: '/home',
      BACKUP_KEEP_WITHIN: '',
      BACKUP_KEEP_DAILY: '7',
      BACKUP_KEEP_WEEKLY: '4',
      BACKUP_KEEP_WITHIN_DAILY: '30d',
    },
    decisions: [
      {
        outcome: 'translated',
        why: "the retention (restic forget's --keep rules)",
        to: 'BACKUP_KEEP_DAILY=7, BACKUP_KEEP_WEEKLY=4, BACKUP_KEEP_WITHIN_DAILY=30d',
      },
      { outcome: 'translated', why: 'forget --prune: the weekly maintenance job prunes' },
      { outcome: 'translated', why: 'forget --group-by host: restic-systemd applies the rules' },
    ],
  },
  {
    name: 'a forget flag restic-systemd cannot express blocks the import',
    variables: [
      ...BASE,
      variable('BACKUP_PATHS', '/home', 3),
      variable('RESTIC_FORGET_ARGS', '--keep-daily 7 --keep-tag important', 4),
    ],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home', BACKUP_KEEP_WITHIN: '', BACKUP_KEEP_DAILY: '7' },
    decisions: [{ outcome: 'blocking', why: 'retention flags restic-systemd cannot express: --keep-tag important' }],
    blocks: true,
  },
  {
    name: 'retention rules given with --set settle a forget flag that blocked',
    variables: [...BASE, variable('BACKUP_PATHS', '/home', 3), variable('RESTIC_FORGET_ARGS', '--keep-tag x', 4)],
    options: { set: [['BACKUP_KEEP_YEARLY', '2']] },
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home', BACKUP_KEEP_YEARLY: '2' },
    decisions: [
      { outcome: 'dropped', why: '--keep-tag x' },
      { outcome: 'dropped', why: '— settled by the command line' },
      { outcome: 'translated', why: 'given on the command line', to: 'BACKUP_KEEP_YEARLY=2' },
    ],
  },
  {
    name: "a unit's timer gives the schedule and the randomized delay",
    variables: [...BASE, variable('BACKUP_PATHS', '/home', 3)],
    units: [unit([], { file: 'restic-backup@.timer', onCalendar: ['*-*-* 02:00'], randomizedDelay: '10min' })],
    entries: {
      ...BASE_ENTRIES,
      BACKUP_PATHS: '/home',
      BACKUP_SCHEDULE: '*-*-* 02:00',
      BACKUP_RANDOMIZED_DELAY: '10min',
    },
    decisions: [
      { outcome: 'translated', why: "the timer's OnCalendar=", to: 'BACKUP_SCHEDULE=*-*-* 02:00' },
      { outcome: 'translated', why: "the timer's RandomizedDelaySec=", to: 'BACKUP_RANDOMIZED_DELAY=10min' },
    ],
  },
  {
    name: 'a timer with several OnCalendar= gives no schedule, and says so',
    variables: [...BASE, variable('BACKUP_PATHS', '/home', 3)],
    units: [unit([], { file: 'restic-backup@.timer', onCalendar: ['daily', 'Sat 12:00'] })],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home' },
    decisions: [{ outcome: 'dropped', why: 'several OnCalendar= (daily; Sat 12:00)' }],
  },
  {
    name: 'a cron schedule becomes a systemd calendar expression',
    variables: [...BASE, variable('BACKUP_PATHS', '/home', 3), variable('CRON_SCHEDULE', '30 2 * * 1-5', 4)],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home', BACKUP_SCHEDULE: 'Mon..Fri *-*-* 02:30:00' },
    decisions: [{ outcome: 'translated', why: 'the cron schedule "30 2 * * 1-5" as a systemd calendar expression' }],
  },
  {
    name: 'a cron schedule with no exact equivalent is dropped, with the way to set it',
    variables: [...BASE, variable('BACKUP_PATHS', '/home', 3), variable('CRON_SCHEDULE', '0 3 1 * 1', 4)],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home' },
    decisions: [{ outcome: 'dropped', why: 'has no exact systemd calendar equivalent: set BACKUP_SCHEDULE by hand' }],
  },
  {
    name: "a unit's restic backup line gives paths, flags and tags, its variables substituted as systemd does",
    variables: [...BASE, variable('TAG', 'nightly', 3)],
    units: [unit(['/usr/bin/restic --verbose backup --one-file-system --tag ${TAG} -e "*.tmp" /home /etc'])],
    entries: {
      ...BASE_ENTRIES,
      BACKUP_PATHS: '/home /etc',
      BACKUP_EXCLUDE: '*.tmp',
      BACKUP_TAGS: 'nightly',
      BACKUP_ONE_FILE_SYSTEM: 'yes',
      TAG: 'nightly',
    },
    decisions: [
      {
        outcome: 'translated',
        why: 'restic backup of the unit',
        to: 'BACKUP_PATHS=/home /etc, BACKUP_EXCLUDE=*.tmp, BACKUP_TAGS=nightly, BACKUP_ONE_FILE_SYSTEM=yes',
      },
      { outcome: 'dropped', why: 'only change what restic prints: --verbose' },
    ],
  },
  {
    name: "a unit's forget and prune lines become the retention and the maintenance job",
    variables: [...BASE, variable('BACKUP_PATHS', '/home', 3)],
    units: [unit(['restic forget --keep-last 10 --keep-within 30d', 'restic prune'])],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home', BACKUP_KEEP_WITHIN: '30d', BACKUP_KEEP_LAST: '10' },
    decisions: [
      { outcome: 'translated', why: 'the retention of the unit', to: 'BACKUP_KEEP_LAST=10, BACKUP_KEEP_WITHIN=30d' },
      { outcome: 'translated', why: "restic-systemd's weekly maintenance job prunes" },
    ],
  },
  {
    name: 'a unit line that runs a script, or a variable no file sets, is dropped and named',
    variables: [...BASE, variable('BACKUP_PATHS', '/home', 3)],
    units: [unit(['/usr/local/bin/backup.sh', 'restic backup $EXTRA /home', 'restic snapshots'])],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home' },
    decisions: [
      { outcome: 'dropped', why: 'runs a script or another tool' },
      { outcome: 'dropped', why: '$EXTRA: not set in the files given, read as empty' },
      { outcome: 'dropped', why: 'restic snapshots is not a job of restic-systemd' },
    ],
  },
  {
    name: 'a backup path with a space blocks the import: it cannot be a word of BACKUP_PATHS',
    variables: [...BASE],
    units: [unit(['restic backup "/srv/my files" /home'])],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home' },
    decisions: [{ outcome: 'blocking', why: '"/srv/my files": a path or pattern with a space' }],
    blocks: true,
  },
  {
    name: 'a relative backup path blocks the import',
    variables: [...BASE, variable('BACKUP_PATHS', 'docs /etc', 3)],
    entries: { ...BASE_ENTRIES },
    decisions: [{ outcome: 'blocking', why: 'docs: a backup path must be absolute' }],
    blocks: true,
  },
  {
    name: 'files that name nothing to back up block the import',
    variables: [...BASE],
    entries: { ...BASE_ENTRIES },
    decisions: [{ outcome: 'blocking', why: 'the files name nothing to back up: give --path DIR' }],
    blocks: true,
  },
  {
    name: '--path settles files that name nothing to back up',
    variables: [...BASE],
    options: { paths: ['/srv/data', '/etc'] },
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/srv/data /etc' },
    decisions: [{ outcome: 'translated', why: 'given on the command line', to: 'BACKUP_PATHS=/srv/data /etc' }],
  },
  {
    name: 'a database-only setup needs no path',
    variables: [...BASE, variable('PGHOST', '/var/run/postgresql', 3)],
    entries: { ...BASE_ENTRIES, PGHOST: '/var/run/postgresql' },
    decisions: [{ outcome: 'kept', why: "libpq's own variable" }],
  },
  {
    name: 'a password inline moves into the password file, and the profile names that file',
    variables: [REPOSITORY, variable('RESTIC_PASSWORD', 'correct horse', 2), variable('BACKUP_PATHS', '/home', 3)],
    entries: { ...BASE_ENTRIES, RESTIC_PASSWORD_FILE: '/etc/restic/home.password', BACKUP_PATHS: '/home' },
    decisions: [
      {
        outcome: 'translated',
        why: 'moved into /etc/restic/home.password (mode 0600): a profile holds no password',
        to: 'RESTIC_PASSWORD_FILE=/etc/restic/home.password',
      },
    ],
  },
  {
    name: 'a password inline beside a password file was never used, and is dropped',
    variables: [...BASE, variable('RESTIC_PASSWORD', 'never used', 3), variable('BACKUP_PATHS', '/home', 4)],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home' },
    decisions: [{ outcome: 'dropped', why: 'restic reads RESTIC_PASSWORD_FILE before RESTIC_PASSWORD' }],
  },
  {
    name: 'a password command beside a password file blocks the import: restic refuses both',
    variables: [
      ...BASE,
      variable('RESTIC_PASSWORD_COMMAND', 'pass show restic', 3),
      variable('BACKUP_PATHS', '/home', 4),
    ],
    entries: { ...BASE_ENTRIES, RESTIC_PASSWORD_COMMAND: 'pass show restic', BACKUP_PATHS: '/home' },
    decisions: [{ outcome: 'blocking', why: 'RESTIC_PASSWORD_COMMAND and RESTIC_PASSWORD_FILE are both set' }],
    blocks: true,
  },
  {
    name: "another layout's repository and relative password file become restic's own keys",
    variables: [
      variable('REPO', 'sftp:backup@nas:/srv/restic', 1, '/etc/backup/conf'),
      variable('PASSWORD_FILE', 'password.txt', 2, '/etc/backup/conf'),
      variable('BACKUP_PATHS', '/home', 3, '/etc/backup/conf'),
    ],
    entries: {
      RESTIC_REPOSITORY: 'sftp:backup@nas:/srv/restic',
      RESTIC_PASSWORD_FILE: '/etc/backup/password.txt',
      BACKUP_PATHS: '/home',
    },
    decisions: [
      { outcome: 'translated', why: "restic's own name for the repository" },
      { outcome: 'translated', why: "restic's own name for the password file" },
    ],
  },
  {
    name: 'RESTIC_HOST, B2_CONNECTIONS and wrapper keys become what restic-systemd does',
    variables: [
      ...BASE,
      variable('BACKUP_PATHS', '/home', 3),
      variable('RESTIC_HOST', 'web1', 4),
      variable('B2_CONNECTIONS', '10', 5),
      variable('BINARY', '/usr/local/bin/restic', 6),
      variable('AWS_ACCESS_KEY_ID', 'AKIA0000', 7),
      variable('UNUSED', '', 8),
    ],
    entries: {
      ...BASE_ENTRIES,
      BACKUP_PATHS: '/home',
      BACKUP_HOST: 'web1',
      BACKUP_RESTIC_OPTIONS: 'b2.connections=10',
      AWS_ACCESS_KEY_ID: 'AKIA0000',
    },
    decisions: [
      { outcome: 'translated', why: 'restic-systemd passes --host itself', to: 'BACKUP_HOST=web1' },
      { outcome: 'translated', why: "restic's b2.connections option", to: 'BACKUP_RESTIC_OPTIONS=b2.connections=10' },
      { outcome: 'dropped', why: 'restic-systemd runs the restic on PATH' },
      { outcome: 'kept', why: "passed to restic's environment as before" },
      { outcome: 'dropped', why: 'empty: it set nothing' },
    ],
  },
  {
    name: "a shell array of restic-systemd's own key is kept, its words joined",
    variables: [...BASE, variable('BACKUP_PATHS', '/home /etc', 3, '/etc/backup.sh', ['/home', '/etc'])],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home /etc' },
    decisions: [{ outcome: 'kept', why: "restic-systemd's own key, the same meaning; the shell array's words joined" }],
  },
];

describe('translate', () => {
  test.each(CASES.map((item) => [item.name, item] as const))('%s', (_name, item) => {
    const result = translate(item.variables, item.units ?? [], { ...OPTIONS, ...item.options });
    expect(Object.fromEntries(result.entries)).toEqual(item.entries);
    for (const decision of item.decisions ?? []) {
      expect(result.decisions).toContainEqual(
        expect.objectContaining({ ...decision, why: expect.stringContaining(decision.why) }),
      );
    }
    expect(result.decisions.some((decision) => decision.outcome === 'blocking')).toBe(item.blocks ?? false);
  });

  test('every variable gets a decision that names its file and line', () => {
    const variables = [...BASE, variable('RESTIC_BACKUP_PATHS', '/home', 7), variable('UNUSED', '', 9)];
    const { decisions } = translate(variables, [], OPTIONS);
    for (const item of variables) {
      expect(decisions.some((decision) => decision.from === `${item.file}:${item.line} ${item.key}`)).toBe(true);
    }
  });

  test('an inline password is returned to be written apart, and only then', () => {
    const inline = [REPOSITORY, variable('RESTIC_PASSWORD', 'correct horse', 2), variable('BACKUP_PATHS', '/h', 3)];
    expect(translate(inline, [], OPTIONS).password).toBe('correct horse');
    expect(translate([...BASE, variable('BACKUP_PATHS', '/h', 3)], [], OPTIONS)).not.toHaveProperty('password');
  });

  test('keys are written in the order of the field table, the repository first; other variables after', () => {
    const { entries } = translate(
      [variable('BACKUP_PATHS', '/home', 1), variable('AWS_ACCESS_KEY_ID', 'AK', 2), ...BASE],
      [unit([], { file: 't', onCalendar: ['daily'] })],
      OPTIONS,
    );
    expect(entries.map(([key]) => key)).toEqual([
      'RESTIC_REPOSITORY',
      'RESTIC_PASSWORD_FILE',
      'BACKUP_PATHS',
      'BACKUP_SCHEDULE',
      'AWS_ACCESS_KEY_ID',
    ]);
  });

  test('--set wins over what the files say', () => {
    const { entries } = translate([...BASE, variable('BACKUP_PATHS', '/home', 3)], [], {
      ...OPTIONS,
      set: [['BACKUP_PATHS', '/srv']],
    });
    expect(Object.fromEntries(entries).BACKUP_PATHS).toBe('/srv');
  });
});

describe('readResticFlags', () => {
  test.each<[string, string, Partial<ReturnType<typeof emptySettings>>]>([
    [
      'backup paths and excludes',
      '-e "*.tmp" --exclude=/x /home /etc',
      { paths: ['/home', '/etc'], excludes: ['*.tmp', '/x'] },
    ],
    ['comma-separated tags, given twice', '--tag a,b --tag=c', { tags: ['a', 'b', 'c'] }],
    ['the host, three ways', '-H a --host b --hostname=c', { host: 'c' }],
    ['switches', '-x --exclude-caches', { oneFileSystem: true, excludeCaches: true }],
    ['exclude files and files-from', '--exclude-file /e --files-from=/f', { excludeFiles: ['/e'], filesFrom: ['/f'] }],
    ['options', '-o s3.region=x --option=b2.connections=4', { options: ['s3.region=x', 'b2.connections=4'] }],
    ['keep rules', '--keep-daily 7 --keep-within-weekly=1m', { keep: { daily: '7', 'within-weekly': '1m' } }],
    ['cosmetic flags', '-v --json --dry-run', { cosmetic: ['-v', '--json', '--dry-run'], unknown: [] }],
    ['unknown flags, as written', '--frobnicate --keep-tag=x', { unknown: ['--frobnicate', '--keep-tag=x'] }],
    ['a flag missing its value as unknown', '--exclude', { unknown: ['--exclude'], excludes: [] }],
    ['a switch given a value as unknown', '--exclude-caches=yes', { unknown: ['--exclude-caches=yes'] }],
    ['words after -- as paths, even with a dash', '--tag t -- -odd /p', { tags: ['t'], paths: ['-odd', '/p'] }],
    ['--read-data as a subset of 100%', '--read-data', { checkSubset: '100%' }],
    ['--read-data-subset', '--read-data-subset 1/10', { checkSubset: '1/10' }],
    ['forget --prune and --group-by', '--prune --group-by host,paths', { prune: true, groupBy: 'host,paths' }],
  ])('reads %s', (_name, text, expected) => {
    expect(readResticFlags(text)).toMatchObject(expected);
  });

  test("forget's positional words are unknown, not paths", () => {
    expect(readResticFlags('--keep-last 3 4bd1e8c2', emptySettings(), 'unknown')).toMatchObject({
      paths: [],
      unknown: ['4bd1e8c2'],
      keep: { last: '3' },
    });
  });

  test('words already split are read into the settings given', () => {
    const settings = readResticWords(['--tag', 'a'], readResticFlags('--tag b /srv'));
    expect(settings).toMatchObject({ tags: ['b', 'a'], paths: ['/srv'] });
  });
});

describe('cronToCalendar', () => {
  test.each<[string, string | undefined]>([
    ['10 2 * * *', '*-*-* 02:10:00'],
    ['*/15 * * * *', '*-*-* *:0/15:00'],
    ['0 */6 * * *', '*-*-* 0/6:00:00'],
    ['0,30 8-18 * * *', '*-*-* 08..18:00,30:00'],
    ['30 2 * * 1-5', 'Mon..Fri *-*-* 02:30:00'],
    ['0 3 * * 0', 'Sun *-*-* 03:00:00'],
    ['0 3 * * 7', 'Sun *-*-* 03:00:00'],
    ['0 3 * * 1,3,5', 'Mon,Wed,Fri *-*-* 03:00:00'],
    ['0 3 1,15 * *', '*-*-01,15 03:00:00'],
    ['0 4 1 1 *', '*-01-01 04:00:00'],
    ['  5 4 * * *  ', '*-*-* 04:05:00'],
    ['@hourly', '*-*-* *:00:00'],
    ['@daily', '*-*-* 00:00:00'],
    ['@midnight', '*-*-* 00:00:00'],
    ['@weekly', 'Sun *-*-* 00:00:00'],
    ['@monthly', '*-*-01 00:00:00'],
    ['@yearly', '*-01-01 00:00:00'],
    ['@annually', '*-01-01 00:00:00'],
    ['0 3 1 * 1', undefined],
    ['0 3 * * mon', undefined],
    ['0 3 * jan *', undefined],
    ['1-30/5 * * * *', undefined],
    ['@reboot', undefined],
    ['0 3 * *', undefined],
    ['0 3 * * * /usr/bin/backup', undefined],
    ['', undefined],
  ])('cron %j is %j', (cron, calendar) => {
    expect(cronToCalendar(cron)).toBe(calendar);
  });
});
