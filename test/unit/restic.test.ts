import { sftpReasonLost, sshCommand } from '../../src/tools/sftp-probe.js';
import { classifyResticFailure, forgetArgs, parseBackupLine } from '../../src/tools/restic.js';
import { timespanSeconds } from '../../src/formats/timespan.js';

test('forget is scoped to the host and all the job tags, grouped by host', () => {
  expect(forgetArgs('h1', ['profile:a', 'job:backup'], { within: '7d', daily: 7 })).toEqual([
    'forget',
    '--json',
    '--host',
    'h1',
    '--tag',
    'profile:a,job:backup',
    '--group-by',
    'host',
    '--keep-within',
    '7d',
    '--keep-daily',
    '7',
  ]);
});

test.each([
  [1, 'Fatal: wrong password or no key found', 'wrong-password'],
  [12, '', 'wrong-password'],
  [
    1,
    'Fatal: unable to open config file: stat /r/config: no such file or directory\nIs there a repository at ' +
      'the following location?',
    'no-repository',
  ],
  [10, '', 'no-repository'],
  [1, 'unable to create lock in backend: repository is already locked by PID 12', 'locked'],
  [11, '', 'locked'],
  [
    1,
    'Fatal: unable to open repository: Get "http://127.0.0.1:1/config": dial tcp 127.0.0.1:1: connect: ' +
      'connection refused',
    'unreachable',
  ],
  [130, '', 'interrupted'],
  [1, 'Fatal: unable to save snapshot: context canceled', 'interrupted'],
  [
    1,
    'Fatal: unable to open repository at rclone:offsite:rclone-repo: error talking HTTP to rclone: context canceled',
    'unreachable',
  ],
  // restic 0.14 cancels its own context when the rclone it started cannot connect: not an interruption.
  [
    1,
    'rclone: Failed to create file system for "offsite:repo": NewFs: couldn\'t connect SSH: dial tcp ' +
      '127.0.0.1:22: connect: connection refused\nFatal: unable to open repository at rclone:offsite:repo: ' +
      'error talking HTTP to rclone: context canceled',
    'unreachable',
  ],
  // restic 0.14 asks for a repository when the server's certificate is not trusted.
  [
    1,
    'Fatal: unable to open config file: client.Head: Head "https://127.0.0.1:8443/r/config": x509: ' +
      'certificate signed by unknown authority\nIs there a repository at the following location?',
    'host-key',
  ],
  [
    10,
    'Fatal: unable to open config file: tls: failed to verify certificate: x509: certificate is valid for ' +
      '10.0.0.1, not 127.0.0.1',
    'host-key',
  ],
  [
    1,
    'subprocess ssh: @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\nFatal: unable to open ' +
      'repository at sftp:k@h:/r: unable to start the sftp session, error: error receiving version packet from ' +
      'server: read |0: file already closed',
    'host-key',
  ],
  // ssh's reason lost by restic's relay: the session never began.
  [
    1,
    'Fatal: unable to open repository at sftp:keeper@127.0.0.1:/home/keeper/repo: unable to start the sftp ' +
      'session, error: error receiving version packet from server: read |0: file already closed',
    'unreachable',
  ],
  [1, 'something else', 'other'],
])('restic exit %i with %j means %s', (code, stderr, problem) => {
  expect(classifyResticFailure(code, stderr).problem).toBe(problem);
});

test('reads the summary line of restic backup --json and ignores the rest', () => {
  expect(parseBackupLine('{"message_type":"status","percent_done":0.5}')).toBeUndefined();
  expect(parseBackupLine('not json')).toBeUndefined();
  expect(
    parseBackupLine(
      JSON.stringify({
        message_type: 'summary',
        files_new: 2,
        files_changed: 1,
        data_added: 10,
        total_duration: 1.5,
        snapshot_id: 'abc',
      }),
    ),
  ).toEqual({
    snapshotId: 'abc',
    filesNew: 2,
    filesChanged: 1,
    filesUnmodified: 0,
    bytesAdded: 10,
    bytesProcessed: 0,
    durationSeconds: 1.5,
  });
});

test.each([
  ['1h', 3600],
  ['5min', 300],
  ['1h 30min', 5400],
  ['90', 90],
  ['2d12h', 216000],
  ['0', 0],
  ['1.5s', 1.5],
])('the time span %j is %d seconds', (text, seconds) => {
  expect(timespanSeconds(text)).toBe(seconds);
});

test.each(['', 'soon', '5 parsecs', '-1h'])('%j is not a time span', (text) => {
  expect(timespanSeconds(text)).toBeUndefined();
});

test('the ssh command restic starts for an SFTP repository, asked again when restic lost its reason', () => {
  expect(sshCommand('sftp:keeper@127.0.0.1:/home/keeper/repo', [])).toEqual({
    program: 'ssh',
    args: ['127.0.0.1', '-l', 'keeper', '-o', 'BatchMode=yes', '-s', 'sftp'],
  });
  expect(sshCommand('sftp://backup@[::1]:2222//srv/repo', ['sftp.args=-i/etc/restic/key'])).toEqual({
    program: 'ssh',
    args: ['::1', '-p', '2222', '-l', 'backup', '-i/etc/restic/key', '-o', 'BatchMode=yes', '-s', 'sftp'],
  });
  expect(sshCommand('sftp:host:repo', ['sftp.command=/usr/local/bin/ssh-to-backup'])).toEqual({
    program: '/usr/local/bin/ssh-to-backup',
    args: [],
  });
  expect(sshCommand('rest:http://h/', [])).toBeUndefined();
  const lost =
    'Fatal: unable to open repository at sftp:k@h:/r: unable to start the sftp session, error: error ' +
    'receiving version packet from server: server unexpectedly closed connection: unexpected EOF';
  expect(sftpReasonLost('sftp:k@h:/r', lost)).toBe(true);
  expect(sftpReasonLost('sftp:k@h:/r', `subprocess ssh: Host key verification failed.\n${lost}`)).toBe(false);
  expect(sftpReasonLost('rest:http://h/', lost)).toBe(false);
});
