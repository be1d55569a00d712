import {
  credentialEnvironment,
  credentialFile,
  credentialKeyProblem,
  movableSecrets,
  withoutUrlPassword,
} from '../../src/profile/credentials.js';

test(
  "the secrets a profile still holds: the password (inline or its file), a URL's password, the backends' and " +
    "libpq's keys; nothing else",
  () => {
    expect(
      movableSecrets({
        RESTIC_REPOSITORY: 'rest:https://backup:s3cr%2Ft@rest.example:8000/host/',
        RESTIC_PASSWORD_FILE: '/etc/restic/a.password',
        AWS_SECRET_ACCESS_KEY: 'aws-secret',
        AWS_ACCESS_KEY_ID: 'AKIA-not-secret',
        PGPASSWORD: 'pg-secret',
        BACKUP_PATHS: '/srv',
        RESTIC_CACERT: '/etc/restic/ca.pem',
        RESTIC_KEY_HINT: 'key-hint',
      }),
    ).toEqual([
      { key: 'RESTIC_PASSWORD', file: '/etc/restic/a.password' },
      {
        key: 'RESTIC_REPOSITORY',
        value: 'rest:https://backup:s3cr%2Ft@rest.example:8000/host/',
        replacement: 'rest:https://backup@rest.example:8000/host/',
      },
      { key: 'AWS_SECRET_ACCESS_KEY', value: 'aws-secret' },
      { key: 'PGPASSWORD', value: 'pg-secret' },
    ]);
    expect(
      movableSecrets({
        RESTIC_REPOSITORY: '/srv/repo',
        RESTIC_PASSWORD: 'inline',
        ENCRYPTED_CREDENTIALS: 'AWS_SECRET_ACCESS_KEY',
      }),
    ).toEqual([{ key: 'RESTIC_PASSWORD', value: 'inline' }]);
    // A password command is not a secret itself: it stays.
    expect(
      movableSecrets({ RESTIC_REPOSITORY: 'sftp:backup@host:/srv/repo', RESTIC_PASSWORD_COMMAND: 'pass show restic' }),
    ).toEqual([]);
  },
);

test('a URL loses its password, and only that', () => {
  expect(withoutUrlPassword('rest:https://user:pw@host:8000/x/')).toBe('rest:https://user@host:8000/x/');
  expect(withoutUrlPassword('s3:https://s3.example/bucket')).toBe('s3:https://s3.example/bucket');
});

test('only the repository, the password and secrets of restic or libpq can be credentials', () => {
  expect(credentialKeyProblem('RESTIC_PASSWORD')).toBeUndefined();
  expect(credentialKeyProblem('RESTIC_REPOSITORY')).toBeUndefined();
  expect(credentialKeyProblem('B2_ACCOUNT_KEY')).toBeUndefined();
  expect(credentialKeyProblem('BACKUP_PATHS')).toMatch(/restic-systemd's own key/);
  expect(credentialKeyProblem('RESTIC_CACERT')).toMatch(/not a secret/);
  expect(credentialKeyProblem('../x')).toMatch(/not a variable name/);
});

test('restic gets the password and the repository as files, other secrets as values; the plain keys are gone', () => {
  const read = (file: string) => `value of ${file}`;
  expect(
    credentialEnvironment(
      ['RESTIC_PASSWORD', 'RESTIC_REPOSITORY', 'B2_ACCOUNT_KEY'],
      '/run/credentials/restic@a.service',
      read,
    ),
  ).toEqual({
    set: {
      RESTIC_PASSWORD_FILE: '/run/credentials/restic@a.service/RESTIC_PASSWORD',
      RESTIC_REPOSITORY_FILE: '/run/credentials/restic@a.service/RESTIC_REPOSITORY',
      B2_ACCOUNT_KEY: 'value of /run/credentials/restic@a.service/B2_ACCOUNT_KEY',
    },
    unset: ['RESTIC_PASSWORD', 'RESTIC_PASSWORD_COMMAND', 'RESTIC_REPOSITORY'],
  });
  expect(credentialFile('myconf', 'RESTIC_PASSWORD')).toBe(
    '/etc/credstore.encrypted/restic-systemd.myconf.RESTIC_PASSWORD',
  );
});
