/**
 * The root filesystems the end-to-end containers boot, one per supported Debian release (systemd,
 * dbus, restic, the release's PostgreSQL and repmgr). The test set-up (test/helpers/global-setup.ts)
 * makes them with debootstrap before any test runs and keeps them in the test cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEBIAN_RELEASES, rootfsPath, type DebianRelease } from '../../helpers/global-setup.js';

export { DEBIAN_RELEASES, type DebianRelease };

/** For describe.each: [name, release]. */
export const RELEASE_MATRIX: ReadonlyArray<[string, DebianRelease]> = DEBIAN_RELEASES.map((release) => [
  release.name,
  release,
]);

/** The cached rootfs of a release; the test set-up made it. */
export function readyRootfs(release: DebianRelease): string {
  const target = rootfsPath(release);
  if (!fs.existsSync(path.join(target, '.complete')))
    throw new Error(
      `the rootfs of ${release.name} is missing (${target}): the test set-up makes it; run the tests with npm test`,
    );
  return target;
}
