/**
 * The profile model without files on disk: the problems of a profile's text (profileTextIssues),
 * the jobs a profile runs (profile/jobs.ts) and the settings its units record (units/settings.ts).
 */
import { FIELD_KEYS, FIELDS, isDatabaseKey, type ProfileValues } from '../../src/profile/fields.js';
import {
  JOBS,
  jobOfFamily,
  jobPingUrl,
  jobSchedule,
  profileJobs,
  profileServiceJobs,
  type JobName,
  type UnitJob,
} from '../../src/profile/jobs.js';
import { localRepositoryPath, profileTextIssues } from '../../src/profile/load.js';
import type { Profile } from '../../src/profile/model.js';
import { isNotProfileKey } from '../../src/profile/rules.js';
import {
  decodeSettings,
  encodeSettings,
  settingsDrift,
  unitSettings,
  type UnitSettings,
} from '../../src/units/settings.js';

const fileOf = (name: string) => `/etc/restic/${name}.conf`;
const textOf = (env: Record<string, string>) =>
  Object.entries(env)
    .map(([key, value]) => `${key}=${value}\n`)
    .join('');

/**
 * A Profile as src/profile/load.ts builds it (buildProfile), from keys and values: the text must be a
 * valid profile (profileTextIssues finds no issue), and `values` are parsed with the field table.
 */
function profileOf(name: string, env: Record<string, string>): Profile {
  const { issues } = profileTextIssues(name, fileOf(name), textOf(env));
  if (issues.length > 0) throw new Error(`not a valid profile: ${JSON.stringify(issues)}`);
  const values: Record<string, unknown> = {};
  for (const key of FIELD_KEYS) {
    const field = FIELDS[key] as { parse: (raw: string) => unknown; default?: string };
    const raw = env[key] ?? field.default?.replaceAll('<name>', name);
    if (raw !== undefined) values[key] = field.parse(raw);
  }
  if ('BACKUP_FILES_FROM' in env && !('BACKUP_PATHS' in env)) values.BACKUP_PATHS = [];
  const databaseConfigured = Object.keys(env).some((key) => isDatabaseKey(key) && !isNotProfileKey(key));
  return {
    name,
    file: fileOf(name),
    env,
    values: values as ProfileValues,
    lines: {},
    databaseConfigured,
    fileBackup: 'BACKUP_PATHS' in env || 'BACKUP_FILES_FROM' in env || !databaseConfigured,
    localRepository: localRepositoryPath(env.RESTIC_REPOSITORY),
    warnings: [],
  };
}

const REPOSITORY = { RESTIC_REPOSITORY: '/srv/restic-repo', RESTIC_PASSWORD_FILE: '/etc/restic/web.password' };
const DATABASE = { PGHOST: '/var/run/postgresql', PG_OS_USER: 'postgres' };

describe('profileTextIssues', () => {
  const issuesOf = (text: string, name = 'web') => profileTextIssues(name, fileOf(name), text);

  test('a valid profile has no issue and no warning', () => {
    expect(issuesOf(textOf({ ...REPOSITORY, BACKUP_PATHS: '/var/www /etc', BACKUP_SCHEDULE: 'daily' }))).toEqual({
      issues: [],
      warnings: [],
    });
  });

  test('a database-only profile is valid: no path, and no file backup asked for', () => {
    expect(issuesOf(textOf({ ...REPOSITORY, ...DATABASE, PG_VERIFY_SCHEDULE: 'weekly' }), 'db')).toEqual({
      issues: [],
      warnings: [],
    });
  });

  test('a password held as an encrypted credential counts as the password', () => {
    const text = textOf({ RESTIC_REPOSITORY: '/srv/restic-repo', ENCRYPTED_CREDENTIALS: 'RESTIC_PASSWORD' });
    expect(issuesOf(text).issues).toEqual([]);
  });

  test.each<[string, Record<string, string>, { key: string; line?: number; message: string }]>([
    [
      'an unknown key of ours near a known one is named with the key meant',
      { ...REPOSITORY, BACKUP_SCHEDUL: 'daily' },
      { key: 'BACKUP_SCHEDUL', line: 3, message: 'unknown key of restic-systemd: did you mean BACKUP_SCHEDULE?' },
    ],
    [
      'an unknown key of ours far from any is refused without a guess',
      { ...REPOSITORY, BACKUP_FROBNICATE: 'yes' },
      { key: 'BACKUP_FROBNICATE', line: 3, message: 'unknown key of restic-systemd (the keys are listed' },
    ],
    [
      "a misspelt key of restic's is refused, as restic would ignore it",
      { ...REPOSITORY, RESTIC_PASSWORD_FIEL: '/x' },
      { key: 'RESTIC_PASSWORD_FIEL', message: 'unknown key: did you mean RESTIC_PASSWORD_FILE?' },
    ],
    [
      "another layout's paths key is refused, with the import command",
      { ...REPOSITORY, RESTIC_BACKUP_PATHS: '/var/www' },
      {
        key: 'RESTIC_BACKUP_PATHS',
        message: 'Translate the file: restic-systemd import /etc/restic/web.conf --name web --force',
      },
    ],
    [
      "another layout's retention key is refused, saying what would happen",
      { ...REPOSITORY, RETENTION_DAYS: '7' },
      { key: 'RETENTION_DAYS', message: 'the job would keep 7 days of snapshots (BACKUP_KEEP_WITHIN) instead' },
    ],
    [
      'RESTIC_HOST is refused for BACKUP_HOST',
      { ...REPOSITORY, RESTIC_HOST: 'web1' },
      { key: 'RESTIC_HOST', message: 'write BACKUP_HOST=<the same value> instead' },
    ],
    [
      'a missing repository is named, with an example',
      { RESTIC_PASSWORD_FILE: '/etc/restic/web.password' },
      { key: 'RESTIC_REPOSITORY', message: 'is missing: add RESTIC_REPOSITORY=<where the backups go>' },
    ],
    [
      'a missing password is named, with the file to write',
      { RESTIC_REPOSITORY: '/srv/restic-repo' },
      { key: 'RESTIC_PASSWORD_FILE', message: 'is missing: add RESTIC_PASSWORD_FILE=/etc/restic/<name>.password' },
    ],
    [
      'two password keys are refused: keep exactly one',
      { ...REPOSITORY, RESTIC_PASSWORD: 'hunter22' },
      { key: 'RESTIC_PASSWORD', line: 3, message: 'RESTIC_PASSWORD_FILE and RESTIC_PASSWORD are set together' },
    ],
    [
      'a repository and a repository file together are refused',
      { ...REPOSITORY, RESTIC_REPOSITORY_FILE: '/etc/restic/repo' },
      { key: 'RESTIC_REPOSITORY_FILE', message: 'RESTIC_REPOSITORY and RESTIC_REPOSITORY_FILE are set together' },
    ],
    [
      "a bad value is refused on its line, with the parser's fix",
      { ...REPOSITORY, BACKUP_TIMEOUT: 'forever' },
      { key: 'BACKUP_TIMEOUT', line: 3, message: '"forever" is not a systemd time span: write it like "5min"' },
    ],
    [
      'a local repository in a folder the sandbox cannot open is refused',
      { RESTIC_REPOSITORY: 'local:/var/lib', RESTIC_PASSWORD_FILE: '/etc/restic/web.password' },
      { key: 'RESTIC_REPOSITORY', line: 1, message: '/var/lib holds more than this job' },
    ],
    [
      'a credential key that is not a secret is refused',
      { ...REPOSITORY, ENCRYPTED_CREDENTIALS: 'BACKUP_PATHS' },
      { key: 'ENCRYPTED_CREDENTIALS', message: "BACKUP_PATHS is restic-systemd's own key, not a secret" },
    ],
  ])('%s', (_name, env, issue) => {
    expect(issuesOf(textOf(env)).issues).toEqual([
      expect.objectContaining({ file: fileOf('web'), ...issue, message: expect.stringContaining(issue.message) }),
    ]);
  });

  test('a line the reader refuses is reported once, not as missing too', () => {
    const { issues } = issuesOf('RESTIC_REPOSITORY=/srv/restic-repo\nRESTIC_PASSWORD_FILE=/etc/restic/a#b\n');
    expect(issues).toEqual([expect.objectContaining({ key: 'RESTIC_PASSWORD_FILE', line: 2 })]);
    expect(issues[0]!.message).toContain('an unquoted "#" or ";" in the value');
  });

  test.each<[string, string]>([
    ['SOME_BACKUP_THING', 'looks like a backup setting, but neither restic-systemd nor restic reads it'],
    ['RESTIC_FROBNICATE', 'restic reads no variable of this name: it has no effect'],
  ])('%s is a warning, not an issue: %s', (key, warning) => {
    const result = issuesOf(textOf({ ...REPOSITORY, [key]: '1' }));
    expect(result.issues).toEqual([]);
    expect(result.warnings).toEqual([
      expect.objectContaining({ key, line: 3, message: expect.stringContaining(warning) }),
    ]);
  });

  test('every problem of a profile is listed at once', () => {
    const { issues } = issuesOf('BACKUP_SCHEDUL=daily\nBACKUP_TIMEOUT=forever\n');
    expect(issues.map((issue) => issue.key).sort()).toEqual([
      'BACKUP_SCHEDUL',
      'BACKUP_TIMEOUT',
      'RESTIC_PASSWORD_FILE',
      'RESTIC_REPOSITORY',
    ]);
  });
});

describe('the jobs of a profile', () => {
  test.each<[string, Record<string, string>, UnitJob[], UnitJob[]]>([
    [
      'a file profile',
      { ...REPOSITORY, BACKUP_PATHS: '/var/www' },
      ['backup', 'maintenance'],
      ['backup', 'maintenance'],
    ],
    [
      'a profile with neither paths nor database (the default path)',
      REPOSITORY,
      ['backup', 'maintenance'],
      ['backup', 'maintenance'],
    ],
    [
      'a database-only profile (the restore drill runs by hand)',
      { ...REPOSITORY, ...DATABASE },
      ['maintenance', 'pg-backup'],
      ['maintenance', 'pg-backup', 'pg-verify'],
    ],
    [
      'a database-only profile with PG_VERIFY_SCHEDULE',
      { ...REPOSITORY, ...DATABASE, PG_VERIFY_SCHEDULE: 'weekly' },
      ['maintenance', 'pg-backup', 'pg-verify'],
      ['maintenance', 'pg-backup', 'pg-verify'],
    ],
    [
      'a profile with an empty PG_VERIFY_SCHEDULE (no drill timer)',
      { ...REPOSITORY, ...DATABASE, PG_VERIFY_SCHEDULE: '' },
      ['maintenance', 'pg-backup'],
      ['maintenance', 'pg-backup', 'pg-verify'],
    ],
    [
      'a profile with files and a database',
      { ...REPOSITORY, ...DATABASE, BACKUP_PATHS: '/etc' },
      ['backup', 'maintenance', 'pg-backup'],
      ['backup', 'maintenance', 'pg-backup', 'pg-verify'],
    ],
    [
      'a database profile whose files come from BACKUP_FILES_FROM',
      { ...REPOSITORY, ...DATABASE, BACKUP_FILES_FROM: '/etc/restic/web.list' },
      ['backup', 'maintenance', 'pg-backup'],
      ['backup', 'maintenance', 'pg-backup', 'pg-verify'],
    ],
  ])('%s runs %j on a schedule and has the services %j', (_name, env, scheduled, services) => {
    const profile = profileOf('web', env);
    expect(profileJobs(profile)).toEqual(scheduled);
    expect(profileServiceJobs(profile)).toEqual(services);
  });

  test.each<[string, UnitJob | undefined]>([
    ['restic', 'backup'],
    ['restic-maintenance', 'maintenance'],
    ['pg-backup', 'pg-backup'],
    ['pg-verify', 'pg-verify'],
    ['restic-notify', undefined],
    ['pg-cleanup', undefined],
    ['restic-backup', undefined],
    ['', undefined],
  ])('the unit family %j is the job %j', (family, job) => {
    expect(jobOfFamily(family)).toBe(job);
  });

  test('every job with units is found again from its family', () => {
    for (const [name, spec] of Object.entries(JOBS)) {
      if ('family' in spec) expect(jobOfFamily(spec.family)).toBe(name);
    }
  });

  const pinged = profileOf('web', {
    ...REPOSITORY,
    ...DATABASE,
    BACKUP_PATHS: '/var/www',
    BACKUP_PING_URL: 'https://hc-ping.com/backup-uuid/',
    PG_BACKUP_PING_URL: 'https://hc-ping.com/pg-uuid',
  });
  test.each<[string, Profile, JobName, string | undefined]>([
    ["the backup's URL, without its trailing slash", pinged, 'backup', 'https://hc-ping.com/backup-uuid'],
    ["the database job's own URL", pinged, 'pg-backup', 'https://hc-ping.com/pg-uuid'],
    ['none for a job without ping key', pinged, 'maintenance', undefined],
    ['none for the safety net', pinged, 'pg-cleanup', undefined],
    ['none when the profile sets none', profileOf('web', REPOSITORY), 'backup', undefined],
  ])('jobPingUrl gives %s', (_name, profile, job, url) => {
    expect(jobPingUrl(profile, job)).toBe(url);
  });

  test.each<[JobName, string | undefined]>([
    ['backup', 'hourly'],
    ['maintenance', 'weekly'],
    ['pg-backup', 'daily'],
    ['pg-verify', undefined],
    ['pg-cleanup', undefined],
  ])('jobSchedule of %s in a profile of defaults is %j', (job, schedule) => {
    expect(jobSchedule(profileOf('db', { ...REPOSITORY, ...DATABASE }), job)).toBe(schedule);
  });
});

describe('unitSettings', () => {
  test.each<[string, Record<string, string>, UnitJob, UnitSettings]>([
    [
      'the backup of a local repository: the defaults, and the repository writable',
      REPOSITORY,
      'backup',
      { schedule: 'hourly', randomizedDelay: '5min', timeout: '6h', writablePaths: ['/srv/restic-repo'] },
    ],
    [
      "the maintenance: its own keys' values",
      { ...REPOSITORY, BACKUP_MAINTENANCE_SCHEDULE: 'Sun 03:00', BACKUP_MAINTENANCE_TIMEOUT: '4h' },
      'maintenance',
      { schedule: 'Sun 03:00', randomizedDelay: '1h', timeout: '4h', writablePaths: ['/srv/restic-repo'] },
    ],
    [
      'a remote repository and a metrics folder: only the metrics folder is writable',
      {
        RESTIC_REPOSITORY: 'sftp:backup@nas:/srv/restic',
        RESTIC_PASSWORD_FILE: '/etc/restic/web.password',
        BACKUP_METRICS_DIR: '/var/lib/prometheus/node-exporter',
      },
      'backup',
      {
        schedule: 'hourly',
        randomizedDelay: '5min',
        timeout: '6h',
        writablePaths: ['/var/lib/prometheus/node-exporter'],
      },
    ],
    [
      'the database job of a spooling profile: the spool folder writable too',
      { ...REPOSITORY, ...DATABASE, PG_DUMP_MODE: 'spool', PG_SPOOL_DIR: '/srv/restic-spool' },
      'pg-backup',
      {
        schedule: 'daily',
        randomizedDelay: '15min',
        timeout: '6h',
        writablePaths: ['/srv/restic-repo', '/srv/restic-spool'],
      },
    ],
    [
      'the file backup of a spooling profile: no spool folder, only the database job writes it',
      { ...REPOSITORY, ...DATABASE, BACKUP_PATHS: '/etc', PG_DUMP_MODE: 'spool', PG_SPOOL_DIR: '/srv/restic-spool' },
      'backup',
      { schedule: 'hourly', randomizedDelay: '5min', timeout: '6h', writablePaths: ['/srv/restic-repo'] },
    ],
    [
      'the restore drill without schedule: no schedule at all',
      { ...REPOSITORY, ...DATABASE, PG_DUMP_MODE: 'spool', PG_SPOOL_DIR: '/srv/restic-spool' },
      'pg-verify',
      { randomizedDelay: '1h', timeout: '6h', writablePaths: ['/srv/restic-repo'] },
    ],
    [
      'a profile with encrypted credentials: the credentials its units load',
      { RESTIC_REPOSITORY: '/srv/restic-repo', ENCRYPTED_CREDENTIALS: 'RESTIC_PASSWORD AWS_SECRET_ACCESS_KEY' },
      'backup',
      {
        schedule: 'hourly',
        randomizedDelay: '5min',
        timeout: '6h',
        credentials: ['RESTIC_PASSWORD', 'AWS_SECRET_ACCESS_KEY'],
        writablePaths: ['/srv/restic-repo'],
      },
    ],
  ])('%s', (_name, env, job, settings) => {
    expect(unitSettings(profileOf('web', env), job)).toEqual(settings);
  });
});

describe('encodeSettings and decodeSettings', () => {
  const settings: UnitSettings = {
    schedule: '*-*-* 02:30:00',
    randomizedDelay: '5min',
    timeout: '6h',
    writablePaths: ['/srv/restic-repo', '/srv/with space'],
    credentials: ['RESTIC_PASSWORD'],
  };

  test('settings come back as they were encoded', () => {
    expect(decodeSettings(encodeSettings(settings))).toEqual(settings);
  });

  test('the encoded settings are one word with nothing systemd would expand or split', () => {
    expect(encodeSettings(settings)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  test.each<[string, string | undefined]>([
    ['nothing', undefined],
    ['an empty value', ''],
    ['text that is not JSON', 'not-settings'],
    ['JSON without writable paths', Buffer.from('{"timeout":"6h"}').toString('base64url')],
    ['JSON that is not an object', Buffer.from('42').toString('base64url')],
  ])('%s decodes to no settings', (_name, text) => {
    expect(decodeSettings(text)).toBeUndefined();
  });
});

describe('settingsDrift', () => {
  const installedProfile = profileOf('web', REPOSITORY);
  const installed = unitSettings(installedProfile, 'backup');

  test('units made from the profile as it is have no drift', () => {
    expect(settingsDrift('backup', unitSettings(profileOf('web', REPOSITORY), 'backup'), installed)).toEqual({
      differences: [],
      blocking: false,
    });
  });

  test('a changed schedule is a difference that does not block the run', () => {
    const now = unitSettings(profileOf('web', { ...REPOSITORY, BACKUP_SCHEDULE: 'daily' }), 'backup');
    expect(settingsDrift('backup', now, installed)).toEqual({
      differences: ['BACKUP_SCHEDULE is "daily" in the profile, but the units run with "hourly"'],
      blocking: false,
    });
  });

  test("a changed delay and timeout are named by the job's own keys", () => {
    const now = unitSettings(
      profileOf('web', { ...REPOSITORY, BACKUP_MAINTENANCE_RANDOMIZED_DELAY: '2h', BACKUP_MAINTENANCE_TIMEOUT: '1d' }),
      'maintenance',
    );
    expect(settingsDrift('maintenance', now, unitSettings(installedProfile, 'maintenance')).differences).toEqual([
      'BACKUP_MAINTENANCE_RANDOMIZED_DELAY is "2h" in the profile, but the units run with "1h"',
      'BACKUP_MAINTENANCE_TIMEOUT is "1d" in the profile, but the units run with "12h"',
    ]);
  });

  test('a schedule set or unset since install is said either way', () => {
    const drill = { ...REPOSITORY, ...DATABASE };
    const without = unitSettings(profileOf('db', drill), 'pg-verify');
    const weekly = unitSettings(profileOf('db', { ...drill, PG_VERIFY_SCHEDULE: 'weekly' }), 'pg-verify');
    expect(settingsDrift('pg-verify', weekly, without).differences).toEqual([
      'PG_VERIFY_SCHEDULE is "weekly" in the profile, but the units run with none',
    ]);
    expect(settingsDrift('pg-verify', without, weekly).differences).toEqual([
      'PG_VERIFY_SCHEDULE is not set in the profile, but the units run with "weekly"',
    ]);
  });

  test('a writable path missing from the sandbox blocks the run, and is named', () => {
    const now = unitSettings(
      profileOf('web', { ...REPOSITORY, BACKUP_METRICS_DIR: '/var/lib/prometheus/node-exporter' }),
      'backup',
    );
    expect(settingsDrift('backup', now, installed)).toEqual({
      differences: [
        'the sandbox does not let the job write /var/lib/prometheus/node-exporter (it allows /srv/restic-repo)',
      ],
      blocking: true,
    });
  });

  test('a sandbox that allows none of the paths says so', () => {
    expect(settingsDrift('backup', installed, { ...installed, writablePaths: [] })).toEqual({
      differences: ["the sandbox does not let the job write /srv/restic-repo (it allows none of the profile's paths)"],
      blocking: true,
    });
  });

  test('a path the sandbox allows but the profile no longer needs is no drift', () => {
    const remote = { ...installed, writablePaths: [] };
    expect(settingsDrift('backup', remote, installed)).toEqual({ differences: [], blocking: false });
  });

  test('an encrypted credential the units do not load blocks the run', () => {
    const now = { ...installed, credentials: ['RESTIC_PASSWORD', 'AWS_SECRET_ACCESS_KEY'] };
    expect(settingsDrift('backup', now, { ...installed, credentials: ['RESTIC_PASSWORD'] })).toEqual({
      differences: ['the units do not load the encrypted credential AWS_SECRET_ACCESS_KEY'],
      blocking: true,
    });
    expect(settingsDrift('backup', now, installed).differences).toEqual([
      'the units do not load the encrypted credentials RESTIC_PASSWORD AWS_SECRET_ACCESS_KEY',
    ]);
  });
});

describe('a file backup with no retention rule (newcomer row 23)', () => {
  const base = 'RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_FILE=/etc/restic/pw\nBACKUP_PATHS=/srv\n';
  const warnings = (extra: string) =>
    profileTextIssues('a', fileOf('a'), base + extra).warnings.map((warning) => `${warning.key}: ${warning.message}`);

  test('BACKUP_KEEP_WITHIN emptied with no other rule is a warning: every snapshot would be kept', () => {
    expect(warnings('BACKUP_KEEP_WITHIN=\n')).toEqual([
      expect.stringMatching(/^BACKUP_KEEP_WITHIN: no retention rule is left .* every snapshot is kept for ever/),
    ]);
  });

  test.each(['', 'BACKUP_KEEP_WITHIN=\nBACKUP_KEEP_DAILY=7\n', 'BACKUP_KEEP_WITHIN=\nBACKUP_KEEP_WITHIN_DAILY=30d\n'])(
    'no warning with a rule: %j',
    (extra) => {
      expect(warnings(extra)).toEqual([]);
    },
  );
});
