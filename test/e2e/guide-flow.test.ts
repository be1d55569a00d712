/**
 * The operating guide's own flow in a real systemd, on Debian 12 and Debian 13, once restic-systemd
 * is set up on the host: a new profile written by hand, `restic init` from the guide's
 * while-read-export loop, `systemctl enable --now restic@<name>.timer`, and no `install`. Then a
 * profile edited behind the units' back: a new schedule, new paths, a new local repository, each
 * with and without `install`. Every result is bounded in time.
 */
import { Container, waitFor } from './harness/container.js';
import { RELEASE_MATRIX } from './harness/rootfs.js';
import { lastRun, settledState, startUnit } from './harness/units.js';

/** Seconds a step may take: a run fails fast or succeeds, it never sits in restic's retries. */
const BOUND_SECONDS = 30;

describe.each(RELEASE_MATRIX)('%s', (_name, release) => {
  let container: Container;

  /** `systemctl start` a oneshot unit (it returns when the run has ended), timed. */
  function timedStart(unit: string) {
    const started = Date.now();
    const run = startUnit(container, unit);
    return { ...run, seconds: (Date.now() - started) / 1000 };
  }

  /** The journal of the unit's last run only. */
  function journalOf(unit: string): string {
    const invocation = container.unitProperty(unit, 'InvocationID');
    return container.run(['journalctl', '--no-pager', '-o', 'cat', `_SYSTEMD_INVOCATION_ID=${invocation}`]).stdout;
  }

  beforeAll(async () => {
    container = await Container.boot(release);
    // restic-systemd set up once on this host, as the README's Quickstart does.
    container.run(['mkdir', '-p', '/media/myconf']);
    container.run(['restic-systemd', 'setup', 'myconf', '--path', '/etc']);
  }, 600_000);

  afterAll(async () => {
    await container?.stop();
  }, 60_000);

  test(
    "the guide's flow for a second profile, never installed: write the file, restic init from the guide's " +
      'loop, systemctl enable --now; hourly, 7 days, and its backup succeeds',
    () =>
      container.scenario(() => {
        container.sh(`
        mkdir -p /media/second && echo 'a file of the second volume' > /media/second/file.txt
        head -c 32 /dev/urandom | base64 > /etc/restic/second.password && chmod 600 /etc/restic/second.password
        printf '%s\\n' RESTIC_REPOSITORY=/srv/restic-repo RESTIC_PASSWORD_FILE=/etc/restic/second.password \\
          BACKUP_PATHS=/media/second > /etc/restic/second.conf
        chmod 600 /etc/restic/second.conf`);
        // The guide, word for word.
        container.run([
          'bash',
          '-c',
          'while read -r line; do export "${line}"; done < /etc/restic/second.conf; restic init',
        ]);
        container.run(['systemctl', 'enable', '--now', 'restic@second.timer']);
        expect(container.unitProperty('restic@second.timer', 'ActiveState')).toBe('active');
        expect(container.unitProperty('restic@second.timer', 'TimersCalendar')).toContain('OnCalendar=*-*-* *:00:00');
        // The generator gave the service its sandbox: the local repository is writable.
        expect(container.unitProperty('restic@second.service', 'ReadWritePaths')).toContain('/srv/restic-repo');
        const run = timedStart('restic@second.service');
        expect(run).toMatchObject({ result: 'success', exitStatus: '0' });
        expect(run.seconds).toBeLessThan(BOUND_SECONDS);
        // The default retention (BACKUP_KEEP_WITHIN=7d) ran.
        expect(journalOf('restic@second.service')).toContain('retention applied');
        // The guide enables the backup's timer only: status says that nothing will prune and check the repository…
        const status = container.run(['restic-systemd', 'status', 'second'], { allowFailure: true });
        expect(status.exitCode).toBe(8);
        expect(status.stdout + status.stderr).toContain(
          'restic-maintenance@second.timer has no next run: systemctl enable --now restic-maintenance@second.timer',
        );
        // …until its timer is enabled too.
        container.run(['systemctl', 'enable', '--now', 'restic-maintenance@second.timer']);
        expect(container.run(['restic-systemd', 'status', 'second'], { allowFailure: true }).exitCode).toBe(0);
        const snapshots = JSON.parse(
          container.run(['restic-systemd', 'exec', 'second', '--', 'restic', '--no-lock', 'snapshots', '--json'])
            .stdout,
        );
        expect(snapshots.map((snapshot: { paths: string[] }) => snapshot.paths)).toEqual([['/media/second']]);
      }),
    120_000,
  );

  test(
    'the same for the database job: systemctl enable --now pg-backup@<name>.timer of a never-installed profile ' +
      'loads its schedule and sandbox',
    () =>
      container.scenario(() => {
        container.writeProfile(
          'dbonly',
          ['RESTIC_REPOSITORY=/srv/dbonly-repo', 'PGHOST=/run/postgresql', 'PG_BACKUP_SCHEDULE=*-*-* 03:30:00'],
          'e2e-password-dbonly',
        );
        container.run(['systemctl', 'enable', '--now', 'pg-backup@dbonly.timer']);
        expect(container.unitProperty('pg-backup@dbonly.timer', 'TimersCalendar')).toContain(
          'OnCalendar=*-*-* 03:30:00',
        );
        expect(container.unitProperty('pg-backup@dbonly.service', 'ReadWritePaths')).toContain('/srv/dbonly-repo');
        container.run(['systemctl', 'disable', '--now', 'pg-backup@dbonly.timer']);
      }),
  );

  test(
    'a profile written and started at once, before systemd reloaded: its local repository is outside the ' +
      'sandbox, so the run fails within seconds with exit 9, naming the command',
    () =>
      container.scenario(() => {
        container.writeProfile(
          'third',
          ['RESTIC_REPOSITORY=/srv/third-repo', 'BACKUP_PATHS=/etc/hostname'],
          'e2e-password-third',
        );
        container.run(['restic-systemd', 'init', 'third']);
        const run = timedStart('restic@third.service');
        expect(run).toMatchObject({ result: 'exit-code', exitStatus: '9' });
        expect(run.seconds).toBeLessThan(BOUND_SECONDS);
        expect(journalOf('restic@third.service')).toContain('run: restic-systemd install third');
        const status = container.run(['restic-systemd', 'status', 'third', '--json'], { allowFailure: true });
        expect(JSON.parse(status.stdout).jobs[0]).toMatchObject({ exitCode: 9, healthy: false });
        expect(JSON.parse(status.stdout).jobs[0].problem).toContain('restic-systemd install third');
        container.run(['restic-systemd', 'install', 'third']);
        expect(timedStart('restic@third.service')).toMatchObject({ result: 'success', exitStatus: '0' });
      }),
    120_000,
  );

  test(
    "an installed profile edited behind the units' back: a new schedule runs with a warning that status " +
      'shows, until install',
    () =>
      container.scenario(() => {
        container.sh(
          "sed -i '/^BACKUP_SCHEDULE=/d' /etc/restic/myconf.conf && echo 'BACKUP_SCHEDULE=*-*-* 04:45:00' >> " +
            '/etc/restic/myconf.conf',
        );
        const run = timedStart('restic@myconf.service');
        expect(run).toMatchObject({ result: 'success', exitStatus: '0' });
        expect(journalOf('restic@myconf.service')).toContain(
          'BACKUP_SCHEDULE is "*-*-* 04:45:00" in the profile, but the units run with "hourly"',
        );
        const status = container.run(['restic-systemd', 'status', 'myconf'], { allowFailure: true });
        expect(status.exitCode).toBe(8);
        expect(status.stdout).toContain('the profile was changed after install');
        container.run(['restic-systemd', 'install', 'myconf']);
        expect(container.unitProperty('restic@myconf.timer', 'TimersCalendar')).toContain('OnCalendar=*-*-* 04:45:00');
        expect(container.run(['restic-systemd', 'status', 'myconf'], { allowFailure: true }).exitCode).toBe(0);
      }),
    120_000,
  );

  test(
    'new paths need no install: the next run backs them up, and nothing is reported outdated',
    () =>
      container.scenario(() => {
        container.sh(
          'mkdir -p /srv/new-data && echo new > /srv/new-data/new.txt && sed -i ' +
            "'s|^BACKUP_PATHS=.*|BACKUP_PATHS=/etc /srv/new-data|' /etc/restic/myconf.conf",
        );
        expect(timedStart('restic@myconf.service')).toMatchObject({ result: 'success', exitStatus: '0' });
        expect(journalOf('restic@myconf.service')).not.toContain('the units differ');
        const latest = JSON.parse(
          container.run([
            'restic-systemd',
            'exec',
            'myconf',
            '--',
            'restic',
            '--no-lock',
            'snapshots',
            '--json',
            '--latest',
            '1',
          ]).stdout,
        );
        expect(latest.at(-1).paths).toEqual(['/etc', '/srv/new-data']);
      }),
    120_000,
  );

  test(
    'a new local repository without install fails within seconds with exit 9 and the command to run; after ' +
      'install it succeeds',
    () =>
      container.scenario(async () => {
        container.sh("sed -i 's|^RESTIC_REPOSITORY=.*|RESTIC_REPOSITORY=/srv/moved-repo|' /etc/restic/myconf.conf");
        container.run(['restic-systemd', 'init', 'myconf']);
        const run = timedStart('restic@myconf.service');
        expect(run).toMatchObject({ result: 'exit-code', exitStatus: '9' });
        expect(run.seconds).toBeLessThan(BOUND_SECONDS);
        const journal = journalOf('restic@myconf.service');
        expect(journal).toContain('does not let the job write /srv/moved-repo');
        expect(journal).toContain('run: restic-systemd install myconf');
        container.run(['restic-systemd', 'install', 'myconf']);
        await waitFor('the service to be idle', () => settledState(container, 'restic@myconf.service'));
        expect(timedStart('restic@myconf.service')).toMatchObject({ result: 'success', exitStatus: '0' });
        expect(lastRun(container, 'restic@myconf.service').exitStatus).toBe('0');
      }),
    120_000,
  );
});
