/**
 * The end-to-end harness itself: a broken unit fails the tier with the container's journal in the
 * failure, and a container leaves nothing behind on the host once stopped.
 */
import fs from 'node:fs';
import { Container } from './harness/container.js';
import { DEBIAN_RELEASES } from './harness/rootfs.js';
import { expectSucceeded, startUnit } from './harness/units.js';

test(
  'a unit whose ExecStart= path is wrong fails the tier, and the failure shows the container journal; the ' +
    'stopped container leaves nothing behind',
  async () => {
    const container = await Container.boot(DEBIAN_RELEASES[0]!);
    try {
      container.writeProfile('myconf', ['RESTIC_REPOSITORY=/var/lib/restic/myconf'], 'e2e-password');
      container.run(['restic-systemd', 'install', 'myconf']);
      // Deliberately broken: the unit's program is not there.
      container.writeFile(
        '/etc/systemd/system/restic@myconf.service.d/zz-broken.conf',
        '[Service]\nExecStart=\nExecStart=/opt/restic-systemd/dist/no-such-cli.js run backup %i\n',
      );
      container.run(['systemctl', 'daemon-reload']);
      const failure = container.scenario(() =>
        expectSucceeded(container, 'restic@myconf.service', startUnit(container, 'restic@myconf.service')),
      );
      await expect(failure).rejects.toThrow(
        new RegExp(
          String.raw`restic@myconf\.service did not succeed: Result=exit-code ExecMainStatus=203[\s\S]*` +
            String.raw`---- container journal[\s\S]*no-such-cli\.js`,
        ),
      );
    } finally {
      await container.stop();
    }
    expect(fs.existsSync(`/proc/${container.pid1}`)).toBe(false);
    expect(fs.existsSync(`/sys/fs/cgroup/systemd/${container.name}`)).toBe(false);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(container.name);
  },
  600_000,
);
