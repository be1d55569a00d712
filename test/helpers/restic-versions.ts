/**
 * The restic releases the restic-facing tests run against (Debian 12's, Debian 13's and the
 * development suite's), as the global set-up unpacked them into the test cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import { testCacheDir, type ResticRelease } from './global-setup.js';

function readReleases(): ResticRelease[] {
  const index = path.join(testCacheDir(), 'restic', 'index.json');
  if (!fs.existsSync(index))
    throw new Error(
      `${index} is missing: the test set-up (test/helpers/global-setup.ts) writes it; run the tests with npm test`,
    );
  return JSON.parse(fs.readFileSync(index, 'utf8')) as ResticRelease[];
}

export const RESTIC_RELEASES: readonly ResticRelease[] = readReleases();

/** For describe.each: [label, release], e.g. ["0.18.0 (trixie)", …]. */
export const RESTIC_MATRIX: ReadonlyArray<[string, ResticRelease]> = RESTIC_RELEASES.map((release) => [
  `${release.version} (${release.suite})`,
  release,
]);

/** True when the release is at least major.minor. */
export function resticAtLeast(release: ResticRelease, major: number, minor: number): boolean {
  const [a = 0, b = 0] = release.version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}
