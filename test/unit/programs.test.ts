/**
 * What a profile makes root run (security review 2, N1): the variables a profile may not hold, restic's options
 * that start programs, and the programs and config files held to the trust rule.
 */
import { profileTextIssues } from '../../src/profile/load.js';
import {
  forbiddenVariableProblem,
  namedConfigFiles,
  namedPrograms,
  programOptionProblem,
} from '../../src/profile/programs.js';

const BASE = 'RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_FILE=/etc/restic/pw\nBACKUP_PATHS=/srv/data\n';
const issuesOf = (extra: string) =>
  profileTextIssues('a', '/etc/restic/a.conf', BASE + extra).issues.map((issue) => `${issue.key}: ${issue.message}`);

describe('variables a profile may not hold', () => {
  test.each([
    ['PATH', 'which program root runs'],
    ['LD_PRELOAD', 'which program root runs'],
    ['LD_LIBRARY_PATH', 'which program root runs'],
    ['LD_AUDIT', 'which program root runs'],
    ['GLIBC_TUNABLES', 'which program root runs'],
    ['NODE_OPTIONS', 'which program root runs'],
    ['NODE_PATH', 'which program root runs'],
    ['BASH_ENV', 'which program root runs'],
    ['ENV', 'which program root runs'],
    ['GCONV_PATH', 'which program root runs'],
    ['PYTHONPATH', 'which program root runs'],
    ['PERL5OPT', 'which program root runs'],
    ['RCLONE_PASSWORD_COMMAND', 'names a program'],
    ['RCLONE_SFTP_SSH', 'names a program'],
    ['SSH_ASKPASS', 'names a program'],
    ['GIT_SSH_COMMAND', 'names a program'],
    ['PRE_BACKUP_CMD', 'names a program'],
  ])('%s is refused: %s', (key, words) => {
    expect(forbiddenVariableProblem(key)).toContain(words);
    expect(issuesOf(`${key}=/tmp/x\n`)).toEqual([expect.stringContaining(`${key}: `)]);
  });

  test.each([
    'RESTIC_PASSWORD_COMMAND',
    'RESTIC_FROM_PASSWORD_COMMAND',
    'AWS_ACCESS_KEY_ID',
    'B2_ACCOUNT_ID',
    'OS_AUTH_URL',
    'GOMAXPROCS',
    'GOGC',
    'PGHOST',
    'TMPDIR',
    'RCLONE_CONFIG_PASS',
  ])('%s is allowed', (key) => {
    expect(forbiddenVariableProblem(key)).toBeUndefined();
  });
});

describe("restic's options that start programs", () => {
  test.each([
    ['sftp.args=-oProxyCommand=/tmp/x', 'ProxyCommand'],
    ['sftp.args=-oLocalCommand=/tmp/x', 'LocalCommand'],
    ['sftp.args=-oKnownHostsCommand=/tmp/x', 'KnownHostsCommand'],
    ['sftp.args=-oPKCS11Provider=/tmp/x.so', 'PKCS11Provider'],
    ['rclone.args=--password-command=/tmp/x', '--password-command'],
    ['rclone.args=--sftp-ssh=/tmp/x', '--sftp-ssh'],
  ])('%s is refused, naming %s', (option, named) => {
    expect(programOptionProblem(option)).toContain(named);
    expect(issuesOf(`BACKUP_RESTIC_OPTIONS=${option}\n`)).toEqual([
      expect.stringMatching(/^BACKUP_RESTIC_OPTIONS: .*runs a program as root that no check sees/),
    ]);
  });

  test.each(['sftp.args=-F/etc/restic/ssh.conf', 'sftp.args=-oPort=2222', 's3.region=eu-west-1', 'rclone.args=-v'])(
    '%s is allowed',
    (option) => {
      expect(programOptionProblem(option)).toBeUndefined();
      expect(issuesOf(`BACKUP_RESTIC_OPTIONS=${option}\n`)).toEqual([]);
    },
  );

  test('the programs and config files they name are listed for the trust rule', () => {
    const env = { RESTIC_PASSWORD_COMMAND: '/usr/local/bin/pass show restic', NOTIFY_COMMAND: 'notify-send' };
    const options = ['sftp.command=/usr/local/bin/my-ssh', 'rclone.program=/opt/rclone', 'sftp.args=-F/etc/ssh.conf'];
    expect(namedPrograms(env, options)).toEqual([
      { key: 'RESTIC_PASSWORD_COMMAND', word: '/usr/local/bin/pass' },
      { key: 'NOTIFY_COMMAND', word: 'notify-send' },
      { key: 'BACKUP_RESTIC_OPTIONS sftp.command', word: '/usr/local/bin/my-ssh' },
      { key: 'BACKUP_RESTIC_OPTIONS rclone.program', word: '/opt/rclone' },
    ]);
    expect(namedConfigFiles([...options, 'rclone.args=--config=/root/rclone.conf'])).toEqual([
      { key: 'BACKUP_RESTIC_OPTIONS sftp.args', word: '/etc/ssh.conf' },
      { key: 'BACKUP_RESTIC_OPTIONS rclone.args', word: '/root/rclone.conf' },
    ]);
  });
});
