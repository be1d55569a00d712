/**
 * The import's translation (src/import/translate.ts) from the variables and units readSources()
 * (src/import/sources.ts) gives it, and its helpers: restic's flags (restic-flags.ts) and cron
 * schedules (cron.ts). No file is read: the sources are written here as readSources() returns them.
 */
import { cronToCalendar } from '../../src/import/cron.js';
import { emptySettings, readResticFlags, readResticWords } from '../../src/import/restic-flags.js';
import {
  translate,
  type ScriptCommand,
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
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home', BACKUP_KEEP_YEARLY: '2', BACKUP_KEEP_WITHIN: '' },
    decisions: [
      { outcome: 'dropped', why: '--keep-tag x' },
      { outcome: 'dropped', why: '— settled by --set' },
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
    decisions: [{ outcome: 'blocking', why: 'several OnCalendar= (daily; Sat 12:00)' }],
    blocks: true,
  },
  {
    name: 'a cron schedule becomes a systemd calendar expression',
    variables: [...BASE, variable('BACKUP_PATHS', '/home', 3), variable('CRON_SCHEDULE', '30 2 * * 1-5', 4)],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home', BACKUP_SCHEDULE: 'Mon..Fri *-*-* 02:30:00' },
    decisions: [{ outcome: 'translated', why: 'the cron schedule "30 2 * * 1-5" as a systemd calendar expression' }],
  },
  {
    name: 'a cron schedule with no exact equivalent blocks, with the way to set it',
    variables: [...BASE, variable('BACKUP_PATHS', '/home', 3), variable('CRON_SCHEDULE', '0 3 1 * 1', 4)],
    entries: { ...BASE_ENTRIES, BACKUP_PATHS: '/home' },
    decisions: [{ outcome: 'blocking', why: 'has no exact systemd calendar equivalent (man systemd.time)' }],
    blocks: true,
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
      { outcome: 'kept', why: "a variable of restic's backends" },
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
    // Files that name no retention rule block on their own (tested below): each case here is about something else.
    const blocking = result.decisions.filter(
      (decision) =>
        decision.outcome === 'blocking' && !(decision.from === '(all files)' && decision.topic === 'retention'),
    );
    expect(blocking.map((decision) => decision.why)).toEqual(
      item.blocks ? expect.arrayContaining([expect.anything()]) : [],
    );
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

/** Classes of misread met on real files (issue 26): the input, and the decision per line. */
interface ClassCase {
  name: string;
  variables?: SourceVariable[];
  units?: UnitSource[];
  scripts?: ScriptCommand[];
  options?: Partial<TranslateOptions>;
  /** Entries the profile must have (others may be there too); undefined: must not have the key. */
  has?: Record<string, string | undefined>;
  /** Each line's decision: its source (a part of from) and outcome. */
  decisions: Array<{ from: string; outcome: Decision['outcome']; why?: string }>;
}

const PATHS = variable('BACKUP_PATHS', '/home', 3);
const CLASS_CASES: ClassCase[] = [
  {
    name: 'retention keys of any layout whose name is retention words and a period',
    variables: [
      ...BASE,
      PATHS,
      variable('BACKUP_RETENTION_WEEKS', '8', 4),
      variable('SNAPSHOTS_MONTHLY', '12', 5),
      variable('KEEP_WITHIN_DAILY', '7d', 6),
    ],
    has: { BACKUP_KEEP_WEEKLY: '8', BACKUP_KEEP_MONTHLY: '12', BACKUP_KEEP_WITHIN_DAILY: '7d', BACKUP_KEEP_WITHIN: '' },
    decisions: [
      { from: 'BACKUP_RETENTION_WEEKS', outcome: 'translated' },
      { from: 'SNAPSHOTS_MONTHLY', outcome: 'translated', why: 'by the words of its name' },
      { from: 'KEEP_WITHIN_DAILY', outcome: 'translated' },
    ],
  },
  {
    name: 'a value of restic forget flags is read as flags, whatever its key is called',
    variables: [...BASE, PATHS, variable('PRUNE_POLICY', '--keep-daily 7 --keep-weekly 4', 4)],
    has: { BACKUP_KEEP_DAILY: '7', BACKUP_KEEP_WEEKLY: '4', BACKUP_KEEP_WITHIN: '' },
    decisions: [{ from: 'PRUNE_POLICY', outcome: 'translated' }],
  },
  {
    name: 'a value of backup switches is read as flags too',
    variables: [...BASE, PATHS, variable('BACKUP_OPTS', '--exclude-caches --one-file-system', 4)],
    has: { BACKUP_EXCLUDE_CACHES: 'yes', BACKUP_ONE_FILE_SYSTEM: 'yes' },
    decisions: [{ from: 'BACKUP_OPTS', outcome: 'translated' }],
  },
  {
    name: 'retention flags or keys that cannot be expressed block, never fall back to the default',
    variables: [
      ...BASE,
      PATHS,
      variable('MY_OPTS', '--keep-last 3 --keep-tag keep', 4),
      variable('RESTIC_KEEP_TAG', 'important', 5),
    ],
    decisions: [
      { from: 'MY_OPTS', outcome: 'blocking', why: '--keep-tag keep' },
      { from: 'RESTIC_KEEP_TAG', outcome: 'blocking', why: '--drop RESTIC_KEEP_TAG' },
    ],
  },
  {
    name: 'files that name no retention rule block; --set of any rule settles it and replaces the default',
    variables: [...BASE, PATHS],
    options: { set: [['BACKUP_KEEP_DAILY', '14']] },
    has: { BACKUP_KEEP_DAILY: '14', BACKUP_KEEP_WITHIN: '' },
    decisions: [{ from: '(the --set rules)', outcome: 'translated', why: 'replace the default' }],
  },
  {
    name: 'files that name no retention rule block, with the --set that keeps the default or everything',
    variables: [...BASE, PATHS],
    has: { BACKUP_KEEP_WITHIN: undefined },
    decisions: [{ from: '(all files)', outcome: 'blocking', why: '--set BACKUP_KEEP_WITHIN=7d' }],
  },
  {
    name: 'a name that is not a retention rule (a time of day) is not read as one',
    variables: [...BASE, PATHS, variable('BACKUP_HOUR', '3', 4)],
    has: { BACKUP_KEEP_HOURLY: undefined, BACKUP_HOUR: undefined },
    decisions: [{ from: 'BACKUP_HOUR', outcome: 'dropped' }],
  },
  {
    name: 'exclude keys of any name: patterns, or files of patterns (relative to their file)',
    variables: [
      ...BASE,
      PATHS,
      variable('EXCLUDES_FILE', '/etc/restic/excl', 4),
      variable('MY_EXCLUDE_LIST', 'more.txt', 5),
      variable('EXCLUDED_PATTERNS', '*.iso', 6),
    ],
    has: { BACKUP_EXCLUDE_FILE: '/etc/restic/excl /etc/restic/more.txt', BACKUP_EXCLUDE: '*.iso' },
    decisions: [
      { from: 'EXCLUDES_FILE', outcome: 'translated' },
      { from: 'MY_EXCLUDE_LIST', outcome: 'translated', why: 'a relative file' },
    ],
  },
  {
    name: "a switch of another tool's exclude: off sets nothing, on blocks",
    variables: [...BASE, PATHS, variable('EXCLUDE_BIND_MOUNTS', 'false', 4), variable('EXCLUDE_VOLUMES', 'true', 5)],
    has: { BACKUP_EXCLUDE: undefined },
    decisions: [
      { from: 'EXCLUDE_BIND_MOUNTS', outcome: 'dropped' },
      { from: 'EXCLUDE_VOLUMES', outcome: 'blocking' },
    ],
  },
  {
    name: 'a key that names folders under a generic name blocks (it may be what was backed up); --drop settles it',
    variables: [...BASE, PATHS, variable('SOURCE_DIRS', '/srv /home', 4), variable('DATA', '/srv/data', 5)],
    options: { drop: ['DATA'] },
    has: { BACKUP_PATHS: '/home', SOURCE_DIRS: undefined, DATA: undefined },
    decisions: [
      { from: 'SOURCE_DIRS', outcome: 'blocking', why: '--set BACKUP_PATHS=' },
      { from: 'DATA', outcome: 'dropped', why: 'left out by --drop DATA' },
    ],
  },
  {
    name: 'a folder a command line substitutes is translated there, not blocked',
    variables: [...BASE, variable('BACKUP_SRC', '/srv/www', 3)],
    units: [unit(['/usr/bin/restic backup $BACKUP_SRC'])],
    has: { BACKUP_PATHS: '/srv/www' },
    decisions: [{ from: 'BACKUP_SRC', outcome: 'dropped', why: 'substituted into a command line' }],
  },
  {
    name: "other programs' variables and secrets are left out, never passed to restic; backends' are kept",
    variables: [
      ...BASE,
      PATHS,
      variable('LOG_FILE', '/var/log/backup.log', 4),
      variable('SMTP_PASSWORD', 'hunter2', 5),
      variable('NTFY_TOPIC', 'backups', 6),
      variable('HOME', '/root', 7),
      variable('B2_ACCOUNT_KEY', 'K00', 8),
      variable('GOMAXPROCS', '2', 9),
    ],
    has: {
      LOG_FILE: undefined,
      SMTP_PASSWORD: undefined,
      NTFY_TOPIC: undefined,
      HOME: undefined,
      B2_ACCOUNT_KEY: 'K00',
      GOMAXPROCS: '2',
    },
    decisions: [
      { from: 'LOG_FILE', outcome: 'dropped' },
      { from: 'SMTP_PASSWORD', outcome: 'dropped', why: "another program's secret" },
      { from: 'NTFY_TOPIC', outcome: 'dropped' },
      { from: 'HOME', outcome: 'dropped' },
      { from: 'B2_ACCOUNT_KEY', outcome: 'kept' },
    ],
  },
  {
    name: "the repository and password under other names become restic's, as a second repository blocks",
    variables: [
      variable('BORG_LIKE_REPO', 'sftp:backup@host:/srv/repo', 1),
      variable('RESTIC_PASS', 'correct horse', 2),
      PATHS,
      variable('REPOSITORY_URL', 's3:https://s3.example.org/other', 4),
    ],
    has: { RESTIC_REPOSITORY: 'sftp:backup@host:/srv/repo', RESTIC_PASSWORD_FILE: '/etc/restic/home.password' },
    decisions: [
      { from: 'BORG_LIKE_REPO', outcome: 'translated' },
      { from: 'RESTIC_PASS', outcome: 'translated' },
      { from: 'REPOSITORY_URL', outcome: 'blocking', why: 'a second repository' },
    ],
  },
  {
    name: "a unit's Environment= password file and -r with a backend prefix are read",
    variables: [PATHS],
    units: [
      {
        ...unit(['/usr/bin/restic -r sftp:backup@host:/srv/repo backup /home']),
        environment: [variable('RESTIC_PASSWORD_FILE', '/etc/restic/pw', 0, '/etc/systemd/system/b.service')],
      },
    ],
    has: { RESTIC_REPOSITORY: 'sftp:backup@host:/srv/repo', RESTIC_PASSWORD_FILE: '/etc/restic/pw' },
    decisions: [{ from: 'b.service:0 RESTIC_PASSWORD_FILE', outcome: 'kept' }],
  },
  {
    name: 'an option whose quoted value holds spaces blocks instead of being cut at the spaces',
    variables: [...BASE, PATHS],
    units: [unit(["/usr/bin/restic -o sftp.args='-i /root/key -p 2222' backup /home"])],
    has: { BACKUP_RESTIC_OPTIONS: undefined },
    decisions: [{ from: 'restic-backup@.service', outcome: 'blocking', why: 'holds spaces' }],
  },
  {
    name: 'a monotonic timer becomes the calendar expression of its period',
    variables: [...BASE, PATHS],
    units: [unit([], { file: 'b.timer', onCalendar: [], monotonic: ['OnBootSec=15min', 'OnUnitActiveSec=1d'] })],
    has: { BACKUP_SCHEDULE: '*-*-* 00:00:00' },
    decisions: [{ from: 'b.timer', outcome: 'translated' }],
  },
  {
    name: 'a monotonic period with no calendar expression blocks instead of falling back to hourly',
    variables: [...BASE, PATHS],
    units: [unit([], { file: 'b.timer', onCalendar: [], monotonic: ['OnUnitActiveSec=90min'] })],
    has: { BACKUP_SCHEDULE: undefined },
    decisions: [{ from: 'b.timer', outcome: 'blocking', why: '--set BACKUP_SCHEDULE' }],
  },
  {
    name: "a script's restic forget line is the retention; its database dump into restic blocks with the job to use",
    variables: [...BASE, PATHS],
    scripts: [
      { file: '/usr/local/bin/backup.sh', line: 12, command: 'restic forget --keep-daily 7 --keep-tag x --prune' },
      { file: '/usr/local/bin/backup.sh', line: 14, command: 'pg_dump app | restic backup --stdin' },
    ],
    has: { BACKUP_KEEP_DAILY: '7' },
    decisions: [
      { from: 'backup.sh:12', outcome: 'translated' },
      { from: 'backup.sh:12', outcome: 'blocking', why: '--keep-tag x' },
      { from: 'backup.sh:14', outcome: 'blocking', why: "restic-systemd's database job" },
    ],
  },
  {
    name: "the commands of a unit's sh -c script are read one by one",
    variables: [...BASE],
    units: [unit(["/bin/sh -c 'restic backup /srv/www && restic forget --keep-weekly 4; true'"])],
    has: { BACKUP_PATHS: '/srv/www', BACKUP_KEEP_WEEKLY: '4' },
    decisions: [{ from: 'restic-backup@.service', outcome: 'translated', why: 'the retention of the unit' }],
  },
  {
    name: 'a wrapper named after restic, given restic backup, is read as restic',
    variables: [...BASE],
    units: [unit(['/etc/restic/restic-with-swift.sh backup --files-from /etc/restic/w.files --tag work'])],
    has: { BACKUP_FILES_FROM: '/etc/restic/w.files', BACKUP_TAGS: 'work' },
    decisions: [{ from: 'restic-with-swift.sh', outcome: 'translated', why: 'named after restic' }],
  },
];

describe('translate: classes of misread (a decision for every line, nothing silently dropped)', () => {
  test.each(CLASS_CASES.map((item) => [item.name, item] as const))('%s', (_name, item) => {
    const result = translate(
      item.variables ?? [],
      item.units ?? [],
      { ...OPTIONS, ...item.options },
      item.scripts ?? [],
    );
    const entries = Object.fromEntries(result.entries);
    for (const [key, value] of Object.entries(item.has ?? {})) expect(entries[key]).toBe(value);
    for (const expected of item.decisions) {
      expect(result.decisions).toContainEqual(
        expect.objectContaining({
          from: expect.stringContaining(expected.from),
          outcome: expected.outcome,
          ...(expected.why ? { why: expect.stringContaining(expected.why) } : {}),
        }),
      );
    }
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
