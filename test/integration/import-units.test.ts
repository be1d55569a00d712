/**
 * import links an env file to the operator's units as systemd would: EnvironmentFile= with
 * specifiers (%E, %i), the unit's own Environment= lines, restic's global flags on its command
 * line (-r with a backend prefix), and the timer that starts it even under another name, or a
 * monotonic one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { removeTempRoots, tempRoot } from '../helpers/temp-root.js';

afterAll(removeTempRoots);

function write(root: string, file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), text);
}

function imported(root: string, ...args: string[]): { profile: Record<string, string>; decisions: string[] } {
  const result = runCli(['--root', root, '--json', 'import', ...args, '--dry-run']);
  const output = JSON.parse(result.stdout) as { text: string; decisions: Array<{ outcome: string; from: string }> };
  const profile = Object.fromEntries(
    output.text
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return { profile, decisions: output.decisions.map((item) => `${item.outcome} ${item.from}`) };
}

test('a template read through %E/restic/%i.env, its Environment= and -r, started by a timer of another name', () => {
  const root = tempRoot();
  write(root, 'etc/restic/home.env', 'BACKUP_PATHS=/srv/data\nBACKUP_KEEP_DAILY=7\n');
  write(
    root,
    'etc/systemd/system/restic-backup@.service',
    '[Service]\nEnvironmentFile=%E/restic/%i.env\nEnvironment="RESTIC_PASSWORD_FILE=/etc/restic/pw" GOMAXPROCS=2\n' +
      'ExecStart=/usr/bin/restic -r sftp:backup@host:/srv/repo backup $BACKUP_PATHS\n',
  );
  write(
    root,
    'etc/systemd/system/nightly-backup@.timer',
    '[Timer]\nOnCalendar=Sun 03:00\nUnit=restic-backup@%i.service\n',
  );
  const { profile } = imported(root, '/etc/restic/home.env', '--name', 'home');
  expect(profile).toMatchObject({
    RESTIC_REPOSITORY: 'sftp:backup@host:/srv/repo',
    RESTIC_PASSWORD_FILE: '/etc/restic/pw',
    GOMAXPROCS: '2',
    BACKUP_PATHS: '/srv/data',
    BACKUP_SCHEDULE: 'Sun 03:00',
  });
});

test('a monotonic timer gives the calendar expression of its period, never the hourly default', () => {
  const root = tempRoot();
  write(root, 'etc/restic/db.env', 'RESTIC_REPOSITORY=/srv/repo\nRESTIC_PASSWORD_FILE=/etc/restic/pw\n');
  write(
    root,
    'etc/systemd/system/restic-db.service',
    '[Service]\nEnvironmentFile=/etc/restic/db.env\nExecStart=/usr/bin/restic backup /var/lib/db\n' +
      'ExecStartPost=/usr/bin/restic forget --keep-last 5\n',
  );
  write(root, 'etc/systemd/system/restic-db.timer', '[Timer]\nOnBootSec=10min\nOnUnitActiveSec=1d\n');
  const { profile } = imported(root, '/etc/restic/db.env', '--name', 'db');
  expect(profile).toMatchObject({
    BACKUP_SCHEDULE: '*-*-* 00:00:00',
    BACKUP_PATHS: '/var/lib/db',
    BACKUP_KEEP_LAST: '5',
  });
});
