/**
 * The field parsers (src/profile/parsers.ts): what each accepts and returns, and for a bad value the
 * FieldValueError whose message tells the operator what to write instead.
 */
import {
  FieldValueError,
  absolutePath,
  absolutePaths,
  calendar,
  count,
  dataSubset,
  repositoryLocation,
  databasePatterns,
  emptyMeansUnset,
  hostName,
  httpUrl,
  oneOf,
  resticDuration,
  resticOptions,
  resticSize,
  sandboxProblem,
  serviceName,
  size,
  tags,
  timespan,
  writableFolder,
  yesNo,
} from '../../src/profile/parsers.js';

type Parse = (raw: string) => unknown;

/** The error a parser throws for `raw`; fails the test when it accepts the value or throws anything else. */
function refusal(parse: Parse, raw: string): FieldValueError {
  try {
    parse(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(FieldValueError);
    return error as FieldValueError;
  }
  throw new Error(`${JSON.stringify(raw)} was accepted`);
}

describe('accepted values and what they become', () => {
  test.each<[string, Parse, string, unknown]>([
    ['absolutePath takes a path from /', absolutePath(), '/etc/restic/a.password', '/etc/restic/a.password'],
    ['absolutePath takes / itself', absolutePath(), '/', '/'],
    ['absolutePath takes a path of 4096 characters', absolutePath(), `/${'a'.repeat(4095)}`, `/${'a'.repeat(4095)}`],
    [
      'absolutePaths takes paths separated by any blanks',
      absolutePaths(),
      ' /home\t/etc  /srv ',
      ['/home', '/etc', '/srv'],
    ],
    ['writableFolder takes a folder of its own', writableFolder('/srv/x'), '/srv/restic-repo', '/srv/restic-repo'],
    [
      'writableFolder takes a folder inside /var/lib',
      writableFolder('/srv/x'),
      '/var/lib/prometheus',
      '/var/lib/prometheus',
    ],
    ['writableFolder takes /etc2, which is not inside /etc', writableFolder('/srv/x'), '/etc2', '/etc2'],
    ['calendar takes a shorthand', calendar(), 'hourly', 'hourly'],
    ['calendar takes a full expression as it is written', calendar(), 'Mon..Fri *-*-* 02:30', 'Mon..Fri *-*-* 02:30'],
    ['timespan takes minutes', timespan(), '5min', '5min'],
    ['timespan takes several parts', timespan(), '1h 30min', '1h 30min'],
    ['timespan takes zero', timespan(), '0', '0'],
    ['timespan trims the blanks around a span', timespan(), ' 6h ', '6h'],
    ['timespan takes ten years, the longest allowed', timespan(), '10y', '10y'],
    ['resticDuration takes days', resticDuration(), '7d', '7d'],
    ['resticDuration takes several units', resticDuration(), '1y6m2d12h', '1y6m2d12h'],
    ['tags takes words', tags(), 'home  nightly', ['home', 'nightly']],
    ['tags takes an empty value as no tag', tags(), '', []],
    [
      'resticOptions takes backend.option=value words',
      resticOptions(),
      'sftp.args=-F/etc/restic/ssh.conf s3.storage-class=STANDARD_IA',
      ['sftp.args=-F/etc/restic/ssh.conf', 's3.storage-class=STANDARD_IA'],
    ],
    ['resticSize takes a bare number', resticSize(), '1024', '1024'],
    ['resticSize takes a suffix of either case', resticSize(), '500m', '500m'],
    ['resticSize takes gigabytes', resticSize(), '1G', '1G'],
    ['databasePatterns takes names and patterns', databasePatterns(), 'repmgr template*', ['repmgr', 'template*']],
    ['databasePatterns takes an empty value as no pattern', databasePatterns(), '', []],
    ['count takes a whole number', count(), '7', 7],
    ['count takes zero', count(), '0', 0],
    ['yesNo takes yes', yesNo(), 'yes', true],
    ['yesNo takes TRUE, whatever the case, as yes', yesNo(), 'TRUE', true],
    ['yesNo takes 1', yesNo(), '1', true],
    ['yesNo takes on', yesNo(), 'on', true],
    ['yesNo takes no', yesNo(), 'no', false],
    ['yesNo takes False', yesNo(), 'False', false],
    ['yesNo takes 0', yesNo(), '0', false],
    ['yesNo takes off', yesNo(), 'off', false],
    ['dataSubset takes a share', dataSubset(), '5%', '5%'],
    ['dataSubset takes a decimal share', dataSubset(), '2.5%', '2.5%'],
    ['dataSubset takes a part', dataSubset(), '1/10', '1/10'],
    ['dataSubset takes a size', dataSubset(), '500M', '500M'],
    ['dataSubset takes the whole', dataSubset(), '100%', '100%'],
    ['dataSubset takes the last part', dataSubset(), '10/10', '10/10'],
    ['repositoryLocation takes an absolute path', repositoryLocation(), '/srv/repo', '/srv/repo'],
    ['repositoryLocation takes local:', repositoryLocation(), 'local:/srv/repo', 'local:/srv/repo'],
    ['repositoryLocation takes a backend', repositoryLocation(), 'sftp:u@h:repo', 'sftp:u@h:repo'],
    ['repositoryLocation takes rclone', repositoryLocation(), 'rclone:remote:bucket', 'rclone:remote:bucket'],
    ['hostName takes a dotted name', hostName(), 'web-1.example.com', 'web-1.example.com'],
    ['hostName takes a name with an underscore', hostName(), 'db_replica', 'db_replica'],
    ['size takes bytes', size(), '100', 100],
    ['size takes K', size(), '1K', 1024],
    ['size takes M', size(), '512M', 512 * 1024 ** 2],
    ['size takes G', size(), '2G', 2 * 1024 ** 3],
    ['size takes T', size(), '1T', 1024 ** 4],
    ['oneOf takes a listed choice', oneOf('fail', 'skip', 'dump'), 'skip', 'skip'],
    ['httpUrl takes https', httpUrl(), 'https://hc-ping.com/abc', 'https://hc-ping.com/abc'],
    ['httpUrl drops trailing slashes', httpUrl(), 'https://hc-ping.com/abc//', 'https://hc-ping.com/abc'],
    [
      'httpUrl takes plain http without credentials',
      httpUrl(),
      'http://10.0.0.5:8000/ping/x',
      'http://10.0.0.5:8000/ping/x',
    ],
    ['httpUrl takes credentials over https', httpUrl(), 'https://user:pw@hc.example/x', 'https://user:pw@hc.example/x'],
    ['httpUrl takes an @ in the path of plain http', httpUrl(), 'http://host/a@b', 'http://host/a@b'],
    ['serviceName takes a bare name', serviceName(), 'repmgrd', 'repmgrd'],
    ['serviceName takes a name with its suffix', serviceName(), 'repmgrd.service', 'repmgrd.service'],
    ['serviceName takes an instance', serviceName(), 'repmgrd@15-main.service', 'repmgrd@15-main.service'],
    ['serviceName takes an empty value (leave repmgrd alone)', serviceName(), '', ''],
  ])('%s', (_name, parse, raw, expected) => {
    expect(parse(raw)).toEqual(expected);
  });
});

describe('refused values, with what to write instead', () => {
  test.each<[string, Parse, string, string]>([
    [
      'absolutePath refuses a relative path',
      absolutePath(),
      'etc/restic/pw',
      '"etc/restic/pw" is not an absolute path: write it from /',
    ],
    ['absolutePath refuses an empty value', absolutePath(), '', 'is not an absolute path: write it from /'],
    [
      'absolutePath refuses a path longer than PATH_MAX',
      absolutePath(),
      `/${'a'.repeat(4096)}`,
      'is 4097 characters long',
    ],
    [
      'absolutePaths refuses a value with no path',
      absolutePaths(),
      '  ',
      'is empty: list at least one absolute path to back up',
    ],
    [
      'absolutePaths refuses relative paths and names them all',
      absolutePaths(),
      '/srv a b',
      '"a", "b" is not an absolute path: write every path from /',
    ],
    ['writableFolder refuses a relative path', writableFolder('/srv/x'), 'repo', 'is not an absolute path'],
    ['writableFolder refuses the whole file system', writableFolder('/srv/x'), '/', '/ is the whole file system'],
    [
      'writableFolder refuses a shared folder',
      writableFolder('/srv/x'),
      '/home',
      "/home holds more than this job's files",
    ],
    ['writableFolder refuses a system folder', writableFolder('/srv/x'), '/etc/restic', '/etc/restic is inside /etc'],
    [
      'writableFolder refuses the state folder of restic-systemd',
      writableFolder('/srv/x'),
      '/var/lib/restic-systemd/x',
      'is inside /var/lib/restic-systemd',
    ],
    [
      'writableFolder refuses a .. that climbs into /usr',
      writableFolder('/srv/x'),
      '/srv/../usr/local',
      '/usr/local is inside /usr',
    ],
    [
      'writableFolder refuses /var and names the example it was given',
      writableFolder('/srv/metrics'),
      '/var',
      'such as /srv/metrics',
    ],
    [
      'calendar refuses an empty value',
      calendar(),
      '',
      'is empty: give a systemd calendar expression such as "hourly"',
    ],
    ['calendar refuses blanks only', calendar(), '   ', 'is empty'],
    ['calendar refuses an option-like value', calendar(), '--help', '"--help" starts with "-"'],
    ['timespan refuses a word', timespan(), 'forever', '"forever" is not a systemd time span: write it like "5min"'],
    ['timespan refuses an unknown unit', timespan(), '5 parsecs', 'is not a systemd time span'],
    ['timespan refuses a negative value', timespan(), '-5min', 'is not a systemd time span'],
    ['timespan refuses an empty value', timespan(), '', 'is not a systemd time span'],
    [
      'timespan refuses more than ten years',
      timespan(),
      '3661d',
      '"3661d" is longer than ten years: write a time span such as "6h"',
    ],
    [
      'resticDuration refuses a number without unit',
      resticDuration(),
      '7',
      '"7" is not a restic duration: write it like "7d"',
    ],
    ['resticDuration refuses weeks, which restic lacks', resticDuration(), '2w', 'is not a restic duration'],
    ['resticDuration refuses an empty value', resticDuration(), '', 'is not a restic duration'],
    ['tags refuses a comma', tags(), 'home a,b', '"a,b" cannot be a tag: a tag holds no ","'],
    ['tags refuses an option', tags(), '--dry-run', 'does not start with "-"'],
    [
      'resticOptions refuses an option without backend prefix',
      resticOptions(),
      'connections=5',
      '"connections=5" is not a restic option: write backend.option=value',
    ],
    ['resticOptions refuses an option without value', resticOptions(), 's3.region', 'is not a restic option'],
    ['resticSize refuses a decimal', resticSize(), '1.5G', '"1.5G" is not a size restic takes: write it like "500M"'],
    ['resticSize refuses a two-letter unit', resticSize(), '1GB', 'is not a size restic takes'],
    [
      'databasePatterns refuses * among the patterns',
      databasePatterns(),
      'repmgr *',
      '"*" matches every database: the dump would hold none',
    ],
    ['databasePatterns refuses ?? alone', databasePatterns(), '??', 'matches every database'],
    ['count refuses a negative number', count(), '-1', '"-1" is not a whole number: write a count such as 7'],
    ['count refuses a fraction', count(), '1.5', 'is not a whole number'],
    ['count refuses an empty value', count(), '', 'is not a whole number'],
    ['yesNo refuses y', yesNo(), 'y', '"y" is neither yes nor no: write yes or no'],
    ['yesNo refuses an empty value', yesNo(), '', 'is neither yes nor no'],
    ['dataSubset refuses a bare number', dataSubset(), '5', '"5" is not a restic data subset: write a share like "5%"'],
    ['dataSubset refuses a lower-case size', dataSubset(), '500m', 'is not a restic data subset'],
    ['dataSubset refuses 0 %', dataSubset(), '0%', 'write more than 0% and at most 100%'],
    ['dataSubset refuses over 100 %', dataSubset(), '150%', 'write more than 0% and at most 100%'],
    ['dataSubset refuses part 0', dataSubset(), '0/5', 'write n/t with 1 ≤ n ≤ t'],
    ['dataSubset refuses a part past the whole', dataSubset(), '6/5', 'write n/t with 1 ≤ n ≤ t'],
    ['dataSubset refuses a part of nothing', dataSubset(), '1/0', 'write n/t with 1 ≤ n ≤ t'],
    ['dataSubset refuses a size of nothing', dataSubset(), '0M', 'reads nothing'],
    ['repositoryLocation refuses a relative path', repositoryLocation(), 'backups/repo', 'is a relative path'],
    ['repositoryLocation refuses a relative local: path', repositoryLocation(), 'local:repo', 'is a relative path'],
    ['repositoryLocation refuses nothing', repositoryLocation(), '', 'is empty'],
    ['hostName refuses a blank inside', hostName(), 'web 1', '"web 1" is not a host name: use letters, digits'],
    ['hostName refuses an option', hostName(), '-x', 'is not a host name'],
    ['hostName refuses an empty value', hostName(), '', 'is not a host name'],
    ['size refuses a lower-case unit', size(), '512m', '"512m" is not a size: write it like "512M"'],
    ['size refuses a two-letter unit', size(), '1GB', 'is not a size'],
    [
      'oneOf refuses a choice in another case',
      oneOf('fail', 'skip', 'dump'),
      'FAIL',
      '"FAIL" is not one of fail, skip, dump',
    ],
    ['oneOf refuses an empty value', oneOf('none', 'zstd'), '', 'is not one of none, zstd'],
    ['httpUrl refuses another scheme', httpUrl(), 'ftp://host/x', '"ftp://host/x" is not an http(s) URL'],
    ['httpUrl refuses a URL with blanks', httpUrl(), 'https://host/a b', 'is not an http(s) URL'],
    ['httpUrl refuses a URL without a host', httpUrl(), 'https:///ping/abc', 'is not an http(s) URL with a host'],
    [
      'httpUrl refuses credentials in plain http',
      httpUrl(),
      'http://u:p@host/x',
      'in a plain http URL, which would send them in clear: use https://',
    ],
    ['serviceName refuses an option', serviceName(), '-repmgrd', 'is not a systemd unit name: write it like "repmgrd"'],
    ['serviceName refuses a slash', serviceName(), 'a/b.service', 'is not a systemd unit name'],
    ['serviceName refuses a blank', serviceName(), 'repmgrd stop', 'is not a systemd unit name'],
  ])('%s, with the fix', (_name, parse, raw, message) => {
    expect(refusal(parse, raw).message).toContain(message);
  });
});

describe('sandboxProblem', () => {
  test.each(['/srv/restic-repo', '/home/alice/backup', '/media/photos-repo', '/var/lib/prometheus/node-exporter'])(
    '%s is a folder a job may write',
    (folder) => {
      expect(sandboxProblem(folder)).toBeUndefined();
    },
  );

  test.each<[string, string]>([
    ['/', 'is the whole file system'],
    ['//', 'is the whole file system'],
    ['/srv/..', 'is the whole file system'],
    ['/srv/', '/srv holds more than this job'],
    ['/./var/lib', '/var/lib holds more than this job'],
    ['/tmp', '/tmp holds more than this job'],
    ['/run/restic', '/run/restic is inside /run'],
    ['/boot', '/boot is inside /boot'],
    ['/var/cache/restic-systemd', 'is inside /var/cache/restic-systemd'],
  ])('%s is refused: "%s"', (folder, problem) => {
    expect(sandboxProblem(folder)).toContain(problem);
  });

  test('the example folder given is the one suggested', () => {
    expect(sandboxProblem('/var', '/srv/restic-spool')).toMatch(/such as \/srv\/restic-spool$/);
  });
});

describe('emptyMeansUnset', () => {
  const parse = emptyMeansUnset(resticDuration());

  test('an empty value is unset, as if the key were not there', () => {
    expect(parse('')).toBeUndefined();
  });

  test('any other value goes through the parser it wraps', () => {
    expect(parse('24h')).toBe('24h');
    expect(refusal(parse, '24').message).toContain('is not a restic duration');
  });
});
