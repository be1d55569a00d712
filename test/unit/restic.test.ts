import { classifyResticFailure, forgetArgs, parseBackupLine } from '../../src/exec/restic.js';
import { timespanSeconds } from '../../src/profile/timespan.js';

test('forget is scoped to the host and all the job tags, grouped by host', () => {
  expect(forgetArgs('h1', ['profile:a', 'job:backup'], { within: '7d', daily: 7 })).toEqual([
    'forget', '--json', '--host', 'h1', '--tag', 'profile:a,job:backup', '--group-by', 'host', '--keep-within', '7d', '--keep-daily', '7',
  ]);
});

test.each([
  [1, 'Fatal: wrong password or no key found', 'wrong-password'],
  [12, '', 'wrong-password'],
  [1, 'Fatal: unable to open config file: stat /r/config: no such file or directory\nIs there a repository at the following location?', 'no-repository'],
  [10, '', 'no-repository'],
  [1, 'unable to create lock in backend: repository is already locked by PID 12', 'locked'],
  [11, '', 'locked'],
  [1, 'Fatal: unable to open repository: Get "http://127.0.0.1:1/config": dial tcp 127.0.0.1:1: connect: connection refused', 'unreachable'],
  [130, '', 'interrupted'],
  // restic 0.14 asks for a repository when the server's certificate is not trusted.
  [1, 'Fatal: unable to open config file: client.Head: Head "https://127.0.0.1:8443/r/config": x509: certificate signed by unknown authority\nIs there a repository at the following location?', 'host-key'],
  [10, 'Fatal: unable to open config file: tls: failed to verify certificate: x509: certificate is valid for 10.0.0.1, not 127.0.0.1', 'host-key'],
  [1, 'subprocess ssh: @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\nFatal: unable to open repository at sftp:k@h:/r: unable to start the sftp session, error: error receiving version packet from server: read |0: file already closed', 'host-key'],
  [1, 'something else', 'other'],
])('restic exit %i with %j means %s', (code, stderr, problem) => {
  expect(classifyResticFailure(code, stderr).problem).toBe(problem);
});

test('reads the summary line of restic backup --json and ignores the rest', () => {
  expect(parseBackupLine('{"message_type":"status","percent_done":0.5}')).toBeUndefined();
  expect(parseBackupLine('not json')).toBeUndefined();
  expect(parseBackupLine('{"message_type":"summary","files_new":2,"files_changed":1,"data_added":10,"total_duration":1.5,"snapshot_id":"abc"}')).toEqual({
    snapshotId: 'abc', filesNew: 2, filesChanged: 1, filesUnmodified: 0, bytesAdded: 10, bytesProcessed: 0, durationSeconds: 1.5,
  });
});

test.each([
  ['1h', 3600], ['5min', 300], ['1h 30min', 5400], ['90', 90], ['2d12h', 216000], ['0', 0], ['1.5s', 1.5],
])('the time span %j is %d seconds', (text, seconds) => {
  expect(timespanSeconds(text)).toBe(seconds);
});

test.each(['', 'soon', '5 parsecs', '-1h'])('%j is not a time span', (text) => {
  expect(timespanSeconds(text)).toBeUndefined();
});
