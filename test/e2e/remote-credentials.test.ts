/**
 * End to end in a real systemd, on Debian 12 and Debian 13: a REST repository served inside the
 * container by `rclone serve restic` over TLS (a self-signed certificate the profile names through
 * RESTIC_CACERT) with an htpasswd file, backed up to by the units under their sandbox; the server
 * stopped makes the next run fail within BACKUP_NETWORK_TIMEOUT with exit 13, and the run after it
 * is back succeeds. Then `credentials` moves the repository password and the URL's password into
 * systemd-creds credentials: the profile holds no secret, and no process of a running job, no unit
 * property, shows one, while every job still runs. And an SFTP repository: a key and a pinned host
 * key in /root/.ssh, read under ProtectHome=read-only; a changed host key exits 15, a refused key 12,
 * sshd down 13. And an rclone remote (restic starts rclone; its config in /root/.config/rclone).
 * Each repository restores what it saved, is maintained by its unit, and takes the database job's
 * dumps (a primary + standby with repmgrd in the container) that restore. Last, the REST and SFTP
 * backups run on schedule, started by their timers, and fail (13) and recover the same way.
 */
import { Container, PROJECT_IN_CONTAINER, waitFor } from './harness/container.js';
import { RELEASE_MATRIX } from './harness/rootfs.js';
import { expectSucceeded, journalShowing, lastRun, settledState, startUnit, type UnitRun } from './harness/units.js';

const REPOSITORY_PASSWORD = 'e2e-repository-password-4Kq9';
const REST_PASSWORD = 'e2e-rest-password-Zt7w';
const PORT = 8443;
const SECRETS = [REPOSITORY_PASSWORD, REST_PASSWORD];

describe.each(RELEASE_MATRIX)('%s', (_name, release) => {
  let container: Container;

  const cli = (...args: string[]) => container.run(['restic-systemd', ...args]);
  // restic 0.14 (Debian 12) reads no RESTIC_CACERT: the jobs pass --cacert for it, a command of one's own must too.
  const snapshots = (): Array<{ id: string; tags?: string[] }> =>
    JSON.parse(
      cli('exec', 'remote', '--', 'restic', '--no-lock', '--cacert', '/etc/rest-server/cert.pem', 'snapshots', '--json')
        .stdout,
    );

  /** restic's own flags a command run by hand needs for this profile (restic 0.14 reads no RESTIC_CACERT). */
  const handFlags = (profile: string) => (profile === 'remote' ? ['--cacert', '/etc/rest-server/cert.pem'] : []);

  /** Restore the latest file backup of the profile and compare it with what was backed up. */
  function expectRestoresData(profile: string): void {
    const target = `/var/tmp/restore-${profile}`;
    container.run(['rm', '-rf', target]);
    cli(
      'exec',
      profile,
      '--',
      'restic',
      ...handFlags(profile),
      'restore',
      'latest',
      '--tag',
      'job:backup',
      '--target',
      target,
    );
    expect(container.run(['diff', '-r', '/srv/data', `${target}/srv/data`], { allowFailure: true })).toMatchObject({
      exitCode: 0,
      stdout: '',
    });
  }

  beforeAll(async () => {
    container = await Container.boot(release);
    container.run(['sh', `${PROJECT_IN_CONTAINER}/test/e2e/container/pg-cluster.sh`]);
    // The server: a certificate for 127.0.0.1 (its own CA), an htpasswd file, rclone as a unit of its own.
    container.sh(`
      mkdir -p /etc/rest-server /srv/rest /srv/data
      cd /etc/rest-server
      openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \\
        -keyout key.pem -out cert.pem 2>/dev/null
      printf 'backup:%s\\n' "$(openssl passwd -apr1 '${REST_PASSWORD}')" > htpasswd
      chmod 600 key.pem htpasswd
      head -c 20000000 /dev/urandom > /srv/data/blob.bin
      echo 'the remote file' > /srv/data/note.txt`);
    startServer();
  }, 600_000);

  afterAll(async () => {
    await container?.stop();
  }, 60_000);

  function startServer(): void {
    container.run([
      'systemd-run',
      '--unit=rest-server',
      '--property=Restart=no',
      'rclone',
      'serve',
      'restic',
      '--addr',
      `127.0.0.1:${PORT}`,
      '--cert',
      '/etc/rest-server/cert.pem',
      '--key',
      '/etc/rest-server/key.pem',
      '--htpasswd',
      '/etc/rest-server/htpasswd',
      '/srv/rest',
    ]);
    container.run([
      'bash',
      '-c',
      `for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/${PORT}) 2>/dev/null && exit 0; sleep 0.1; done; exit 1`,
    ]);
  }

  test(
    'backups to a REST server over TLS with a password under the sandbox; the server down fails the next run ' +
      'within the bound (13), the run after it is back succeeds',
    () =>
      container.scenario(async () => {
        container.writeProfile(
          'remote',
          [
            `RESTIC_REPOSITORY=rest:https://backup:${REST_PASSWORD}@127.0.0.1:${PORT}/remote/`,
            'RESTIC_CACERT=/etc/rest-server/cert.pem',
            'BACKUP_PATHS=/srv/data',
            'BACKUP_NETWORK_TIMEOUT=15s',
          ],
          REPOSITORY_PASSWORD,
        );
        expect(cli('init', 'remote').stdout).toContain('created the repository');
        expect(cli('validate', 'remote').stdout).toContain('remote: valid');
        cli('install', 'remote');
        expectSucceeded(container, 'restic@remote.service', startUnit(container, 'restic@remote.service'));
        expect(snapshots()).toHaveLength(1);
        expectRestoresData('remote');

        container.run(['systemctl', 'stop', 'rest-server']);
        const started = Date.now();
        const down = startUnit(container, 'restic@remote.service');
        const seconds = (Date.now() - started) / 1000;
        expect(down).toEqual({ result: 'exit-code', exitStatus: '13' });
        // 15 s of retries, then restic is stopped: well inside a minute, not restic's own 15 minutes.
        expect(seconds).toBeLessThan(60);
        await journalShowing(container, 'restic@remote.service', [/repository cannot be reached/], 30);
        const status = container.run(['restic-systemd', 'status', 'remote', '--json'], { allowFailure: true });
        expect(status.exitCode).toBe(8);
        expect(status.stdout).toMatch(/"exitCode":\s*13/);
        // validate shows restic's own reason.
        const invalid = container.run(['restic-systemd', 'validate', 'remote'], { allowFailure: true });
        expect(invalid.exitCode).toBe(3);
        expect(invalid.stdout).toMatch(/connection refused|cannot be reached/);

        startServer();
        expectSucceeded(container, 'restic@remote.service', startUnit(container, 'restic@remote.service'));
        expect(snapshots()).toHaveLength(2);
      }),
    240_000,
  );

  test(
    'credentials: the profile keeps no secret, no process of a running job and no unit property shows one, ' +
      'and the jobs still run',
    () =>
      container.scenario(async () => {
        const moved = JSON.parse(cli('credentials', 'remote', '--json').stdout);
        expect(moved).toMatchObject({
          changed: true,
          moved: ['RESTIC_PASSWORD', 'RESTIC_REPOSITORY'],
          unitsReinstalled: true,
          unusedFiles: ['/etc/restic/remote.password'],
        });
        const profile = container.readFile('/etc/restic/remote.conf');
        for (const secret of SECRETS) expect(profile).not.toContain(secret);
        expect(profile).toContain(`RESTIC_REPOSITORY=rest:https://backup@127.0.0.1:${PORT}/remote/`);
        expect(profile).toContain('ENCRYPTED_CREDENTIALS=RESTIC_PASSWORD RESTIC_REPOSITORY');
        expect(
          container
            .sh(
              'stat -c "%a %U" /etc/credstore.encrypted ' +
                '/etc/credstore.encrypted/restic-systemd.remote.RESTIC_PASSWORD ' +
                '/etc/credstore.encrypted/restic-systemd.remote.RESTIC_REPOSITORY',
            )
            .stdout.split('\n')
            .filter(Boolean),
        ).toEqual(['700 root', '600 root', '600 root']);
        // Encrypted, not merely moved.
        for (const secret of SECRETS)
          expect(container.sh('cat /etc/credstore.encrypted/*').stdout).not.toContain(secret);
        // Run again: nothing left to move.
        expect(JSON.parse(cli('credentials', 'remote', '--json').stdout)).toMatchObject({ moved: [] });
        // The plaintext password file is the operator's to remove: remove it, the jobs must not need it.
        container.run(['rm', '/etc/restic/remote.password']);

        // A run under systemd, watched from outside: every process of its cgroup, while it runs.
        container.run(['systemctl', 'start', '--no-block', 'restic@remote.service']);
        const watch = container.sh(`
        unit=restic@remote.service
        seen=0
        for i in $(seq 600); do
          cg=$(systemctl show -P ControlGroup $unit)
          state=$(systemctl show -P ActiveState $unit)
          for procs in /sys/fs/cgroup$cg/cgroup.procs /sys/fs/cgroup/unified$cg/cgroup.procs \\
              /sys/fs/cgroup/systemd$cg/cgroup.procs; do
            [ -n "$cg" ] && [ -r "$procs" ] || continue
            for pid in $(cat "$procs"); do
              cmd=$(tr '\\0' ' ' < /proc/$pid/cmdline 2>/dev/null) || continue
              echo "== $pid $cmd"
              tr '\\0' '\\n' < /proc/$pid/environ 2>/dev/null || true
              seen=$((seen + 1))
            done
          done
          [ "$state" = activating ] || [ "$state" = active ] || [ $i -lt 10 ] || break
          sleep 0.05
        done
        echo "seen=$seen"`).stdout;
        expect(watch).toMatch(/^== \d+ .*restic .*backup/m);
        expect(watch).toMatch(/^RESTIC_PASSWORD_FILE=.*\/RESTIC_PASSWORD$/m);
        for (const secret of SECRETS) expect(watch).not.toContain(secret);
        await waitFor('the run to end', () => settledState(container, 'restic@remote.service'));
        expectSucceeded(container, 'restic@remote.service', lastRun(container, 'restic@remote.service'));

        const shown =
          container.run(['systemctl', 'show', 'restic@remote.service']).stdout +
          container.run(['systemctl', 'cat', 'restic@remote.service']).stdout;
        expect(shown).toContain(
          'LoadCredentialEncrypted=RESTIC_PASSWORD:/etc/credstore.encrypted/restic-systemd.remote.RESTIC_PASSWORD',
        );
        for (const secret of SECRETS) expect(shown).not.toContain(secret);

        // By hand (exec, validate) the credentials are decrypted for the run and removed after it.
        expect(snapshots()).toHaveLength(3);
        expect(cli('validate', 'remote').stdout).toContain('remote: valid');
        expect(container.sh('ls -A /run/restic-systemd | grep credentials || true').stdout.trim()).toBe('');
        expectSucceeded(
          container,
          'restic-maintenance@remote.service',
          startUnit(container, 'restic-maintenance@remote.service'),
        );
        for (const secret of SECRETS) expect(container.journal({ lines: 400 })).not.toContain(secret);
      }),
    240_000,
  );

  test(
    'SFTP with a key and a pinned host key, read under ProtectHome=read-only: backs up and restores; a ' +
      'changed host key fails with 15, a refused key with 12, the server down with 13',
    () =>
      container.scenario(async () => {
        container.sh(`
        id keeper >/dev/null 2>&1 || useradd --create-home --shell /bin/sh keeper
        install -d -m 700 -o keeper -g keeper /home/keeper/.ssh
        install -d -m 700 /root/.ssh
        rm -f /root/.ssh/id_backup /root/.ssh/id_backup.pub
        ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_backup
        install -m 600 -o keeper -g keeper /root/.ssh/id_backup.pub /home/keeper/.ssh/authorized_keys
        printf 'Host 127.0.0.1\n  User keeper\n  IdentityFile /root/.ssh/id_backup\n  BatchMode yes\n' \\
          > /root/.ssh/config
        systemctl start ssh.service
        for i in $(seq 100); do
          ssh-keyscan -t ed25519 127.0.0.1 > /root/.ssh/known_hosts 2>/dev/null
          [ -s /root/.ssh/known_hosts ] && break
          sleep 0.1
        done`);
        container.writeProfile(
          'viassh',
          [
            'RESTIC_REPOSITORY=sftp:keeper@127.0.0.1:/home/keeper/repo',
            'BACKUP_PATHS=/srv/data',
            'BACKUP_NETWORK_TIMEOUT=15s',
          ],
          REPOSITORY_PASSWORD,
        );
        expect(cli('init', 'viassh').stdout).toContain('created the repository');
        cli('install', 'viassh');
        expect(container.unitProperty('restic@viassh.service', 'ProtectHome')).toBe('read-only');
        expectSucceeded(container, 'restic@viassh.service', startUnit(container, 'restic@viassh.service'));
        await journalShowing(container, 'restic@viassh.service', [/snapshot [0-9a-f]{8} saved/], 40);

        // Another server answering at the same address: the pinned key no longer matches.
        const pinned = container.readFile('/root/.ssh/known_hosts');
        container.sh(
          `rm -f /root/other_host_key /root/other_host_key.pub; ssh-keygen -q -t ed25519 -N '' -f ` +
            `/root/other_host_key; printf '127.0.0.1 %s\\n' "$(cut -d' ' -f1,2 /root/other_host_key.pub)" > ` +
            `/root/.ssh/known_hosts`,
        );
        expect(startUnit(container, 'restic@viassh.service')).toEqual({ result: 'exit-code', exitStatus: '15' });
        await journalShowing(container, 'restic@viassh.service', [/host key/i], 30);
        container.writeFile('/root/.ssh/known_hosts', pinned);

        // The server no longer takes the key: 12, and the journal says so. (restic relays ssh's reason
        // only when its relay wins the race with ssh's exit; when it loses, the job asks ssh again.)
        container.sh(`cp /home/keeper/.ssh/authorized_keys /root/authorized_keys.saved
        rm -f /root/unrelated_key /root/unrelated_key.pub; ssh-keygen -q -t ed25519 -N '' -f /root/unrelated_key
        cp /root/unrelated_key.pub /home/keeper/.ssh/authorized_keys`);
        expect(startUnit(container, 'restic@viassh.service')).toEqual({ result: 'exit-code', exitStatus: '12' });
        await journalShowing(
          container,
          'restic@viassh.service',
          [/refused the credentials[\s\S]*Permission denied \(publickey/],
          20,
        );
        container.sh(
          'install -m 600 -o keeper -g keeper /root/authorized_keys.saved /home/keeper/.ssh/authorized_keys',
        );

        // restic losing ssh's reason, made certain (fault injection: a restic whose "subprocess ssh:"
        // lines are dropped): the job asks ssh itself, and the code is still the right one.
        container.writeFile(
          '/usr/local/bin/e2e-restic-losing-ssh-reason',
          '#!/bin/bash\n{ restic "$@" 2>&1 1>&3 3>&- | grep -v \'^subprocess ssh:\' >&2; exit ' +
            '"${PIPESTATUS[0]}"; } 3>&1\n',
          0o755,
        );
        container.writeFile(
          '/etc/systemd/system/restic@viassh.service.d/zz-e2e.conf',
          '[Service]\nEnvironment=RESTIC_BIN=/usr/local/bin/e2e-restic-losing-ssh-reason\n',
        );
        container.run(['systemctl', 'daemon-reload']);
        container.sh(`printf '127.0.0.1 %s\\n' "$(cut -d' ' -f1,2 /root/other_host_key.pub)" > /root/.ssh/known_hosts`);
        expect(startUnit(container, 'restic@viassh.service')).toEqual({ result: 'exit-code', exitStatus: '15' });
        await journalShowing(
          container,
          'restic@viassh.service',
          [/did not pass on why ssh ended; asked again, subprocess ssh: .*Host key/],
          20,
        );
        container.writeFile('/root/.ssh/known_hosts', pinned);
        container.run(['rm', '/etc/systemd/system/restic@viassh.service.d/zz-e2e.conf']);
        container.run(['systemctl', 'daemon-reload']);

        container.run(['systemctl', 'stop', 'ssh.socket', 'ssh.service'], { allowFailure: true });
        expect(startUnit(container, 'restic@viassh.service')).toEqual({ result: 'exit-code', exitStatus: '13' });
        container.run(['systemctl', 'start', 'ssh.service']);
        expectSucceeded(container, 'restic@viassh.service', startUnit(container, 'restic@viassh.service'));
        expectRestoresData('viassh');
      }),
    240_000,
  );

  // After the SFTP test: the same sshd, user, key and known_hosts, through rclone's own SFTP client.
  test(
    'an rclone remote (restic starts rclone, its config in /root/.config/rclone) under the sandbox: backs up ' +
      'and restores; the server down fails with 13, back it succeeds',
    () =>
      container.scenario(async () => {
        container.writeFile(
          '/root/.config/rclone/rclone.conf',
          [
            '[offsite]',
            'type = sftp',
            'host = 127.0.0.1',
            'user = keeper',
            'key_file = /root/.ssh/id_backup',
            'known_hosts_file = /root/.ssh/known_hosts',
            '',
          ].join('\n'),
          0o600,
        );
        container.writeProfile(
          'viarclone',
          ['RESTIC_REPOSITORY=rclone:offsite:rclone-repo', 'BACKUP_PATHS=/srv/data', 'BACKUP_NETWORK_TIMEOUT=15s'],
          REPOSITORY_PASSWORD,
        );
        expect(cli('init', 'viarclone').stdout).toContain('created the repository');
        expect(cli('validate', 'viarclone').stdout).toContain('viarclone: valid');
        cli('install', 'viarclone');
        expectSucceeded(container, 'restic@viarclone.service', startUnit(container, 'restic@viarclone.service'));
        expect(container.sh('ls /home/keeper/rclone-repo').stdout).toContain('config');
        expectRestoresData('viarclone');

        container.run(['systemctl', 'stop', 'ssh.socket', 'ssh.service'], { allowFailure: true });
        const started = Date.now();
        expect(startUnit(container, 'restic@viarclone.service')).toEqual({ result: 'exit-code', exitStatus: '13' });
        expect((Date.now() - started) / 1000).toBeLessThan(90);
        container.run(['systemctl', 'start', 'ssh.service']);
        expectSucceeded(container, 'restic@viarclone.service', startUnit(container, 'restic@viarclone.service'));
      }),
    240_000,
  );

  test(
    "each remote (REST with encrypted credentials, SFTP, rclone) takes the database job's dump, which " +
      'restores, and its maintenance unit succeeds',
    () =>
      container.scenario(async () => {
        const host = container.run(['hostname']).stdout.trim();
        for (const profile of ['remote', 'viassh', 'viarclone']) {
          container.sh(
            `printf '%s\\n' PGHOST=/run/postgresql PGPORT=5433 PGUSER=postgres PG_OS_USER=postgres >> ` +
              `/etc/restic/${profile}.conf`,
          );
          cli('install', profile);
          const unit = `pg-backup@${profile}.service`;
          expectSucceeded(container, unit, startUnit(container, unit));
          // The default format: the globals and one pg_dump archive per database, in one snapshot.
          const listed = cli(
            'exec',
            profile,
            '--',
            'restic',
            ...handFlags(profile),
            'ls',
            '--tag',
            'job:pg-backup',
            '--host',
            host,
            'latest',
          ).stdout;
          expect(listed).toMatch(new RegExp(`/${profile}\\.pg-dump/databases/[^/]+/toc\\.dat$`, 'm'));
          expect(listed).toMatch(new RegExp(`/${profile}\\.pg-dump/globals\\.sql$`, 'm'));
          // The restore drill: the dump, read back from the remote, restores into a scratch cluster.
          expectSucceeded(
            container,
            `pg-verify@${profile}.service`,
            startUnit(container, `pg-verify@${profile}.service`),
          );
          expect(container.journal({ unit: `pg-verify@${profile}.service`, lines: 30 })).toMatch(
            /restores into PostgreSQL \d+ in [\d.]+ s: \d+ databases, \d+ tables, \d+ rows/,
          );
          expectSucceeded(
            container,
            `restic-maintenance@${profile}.service`,
            startUnit(container, `restic-maintenance@${profile}.service`),
          );
        }

        // With encrypted credentials, a run killed mid-dump: ExecStopPost=, which systemd gives no
        // credentials, restores the standby, then decrypts them itself to forget the run's snapshots.
        const unit = 'pg-backup@remote.service';
        const standby = (sql: string) => container.psql(5433, sql);
        container.writeFile(
          '/usr/local/bin/e2e-hanging-pg_dumpall',
          '#!/bin/sh\n/usr/bin/pg_dumpall "$@" | head -c 100000\nexec sleep 601\n',
          0o755,
        );
        container.writeFile(
          `/etc/systemd/system/${unit}.d/zz-e2e.conf`,
          '[Service]\nEnvironment=PG_DUMPALL_BIN=/usr/local/bin/e2e-hanging-pg_dumpall\n',
        );
        container.run(['systemctl', 'daemon-reload']);
        container.run(['systemctl', 'start', '--no-block', unit]);
        await waitFor('the run to hang mid-dump with replay paused', () =>
          container.run(['pgrep', '-f', 'sleep 601'], { allowFailure: true }).exitCode === 0 &&
          standby('SELECT pg_get_wal_replay_pause_state()') === 'paused'
            ? true
            : undefined,
        );
        container.run(['systemctl', 'kill', '--kill-whom=main', '--signal=KILL', unit]);
        await waitFor(`${unit} to end`, () => settledState(container, unit));
        await journalShowing(
          container,
          unit,
          ['did not finish (SERVICE_RESULT=signal)', /pg-cleanup of remote: standby restored/],
          40,
        );
        expect(standby('SELECT pg_get_wal_replay_pause_state()')).toBe('not paused');
        expect(container.run(['systemctl', 'is-active', 'repmgrd'], { allowFailure: true }).stdout.trim()).toBe(
          'active',
        );
        expect(container.sh('ls -A /run/restic-systemd /var/lib/restic-systemd').stdout).not.toMatch(
          /credentials\.|marker/,
        );
        container.run(['rm', `/etc/systemd/system/${unit}.d/zz-e2e.conf`]);
        container.run(['systemctl', 'daemon-reload']);
        expectSucceeded(container, unit, startUnit(container, unit));

        for (const secret of SECRETS) expect(container.journal({ lines: 3000 })).not.toContain(secret);
      }),
    600_000,
  );

  // Last: the timers fire every 30 s here (longer than a run that waits out BACKUP_NETWORK_TIMEOUT=15s),
  // and are set back to the default schedule at the end.
  test(
    'on schedule: the timers of the REST (credentials) and SFTP profiles start their backups; with the ' +
      'servers stopped the next scheduled runs exit 13, back they succeed',
    () =>
      container.scenario(async () => {
        const profiles = ['remote', 'viassh'];
        const units = profiles.map((profile) => `restic@${profile}.service`);
        /** The runs the units' timers start next (each unit's start time changes), once each has ended. */
        const nextScheduledRuns = async () => {
          const before = units.map((unit) => container.unitProperty(unit, 'ExecMainStartTimestampMonotonic'));
          const runs: UnitRun[] = [];
          for (const [index, unit] of units.entries()) {
            runs.push(
              await waitFor(
                `${unit} to be started by its timer and end`,
                () =>
                  container.unitProperty(unit, 'ExecMainStartTimestampMonotonic') !== before[index] &&
                  settledState(container, unit)
                    ? lastRun(container, unit)
                    : undefined,
                240_000,
              ),
            );
          }
          return runs;
        };
        const before = snapshots().length;
        for (const profile of profiles) {
          container.sh(
            `printf '%s\\n' 'BACKUP_SCHEDULE=*:*:0/30' BACKUP_RANDOMIZED_DELAY=0 >> /etc/restic/${profile}.conf`,
          );
          cli('install', profile);
          expect(container.unitProperty(`restic@${profile}.timer`, 'ActiveState')).toBe('active');
        }
        for (const [index, run] of (await nextScheduledRuns()).entries())
          expectSucceeded(container, units[index]!, run);
        expect(snapshots().length).toBeGreaterThan(before);

        container.run(['systemctl', 'stop', 'rest-server']);
        container.run(['systemctl', 'stop', 'ssh.socket', 'ssh.service'], { allowFailure: true });
        expect(await nextScheduledRuns()).toEqual([
          { result: 'exit-code', exitStatus: '13' },
          { result: 'exit-code', exitStatus: '13' },
        ]);
        startServer();
        container.run(['systemctl', 'start', 'ssh.service']);
        for (const [index, run] of (await nextScheduledRuns()).entries())
          expectSucceeded(container, units[index]!, run);

        for (const profile of profiles) {
          container.sh(
            `sed -i -e '/^BACKUP_SCHEDULE=/d' -e '/^BACKUP_RANDOMIZED_DELAY=/d' /etc/restic/${profile}.conf`,
          );
          cli('install', profile);
        }
      }),
    600_000,
  );
});
