/**
 * The soak's short version, run by CI: six profiles (three file profiles, one on each repository, and
 * the three database formats on the standby) for six minutes in a real systemd on Debian 13, with the
 * seeded faults of the first three minutes, then every end check of `npm run soak` (test/soak/). The
 * hour-long runs of both releases, with the switchover, are run by hand (docs/reliability.md).
 */
import { DEBIAN_RELEASES } from '../helpers/global-setup.js';
import { soakRelease } from '../soak/soak.js';

const MINUTES = 6;
// Its schedule, as logged: the REST server down for 100 s, then a restic process killed.
const SEED = 2026;

test(
  `a ${MINUTES}-minute soak of six profiles on Debian 13: faults hit, and every end check holds`,
  async () => {
    const trixie = DEBIAN_RELEASES.find((release) => release.suite === 'trixie')!;
    const result = await soakRelease(trixie, { minutes: MINUTES, seed: SEED, profiles: 6 });
    expect(result.faults.length).toBeGreaterThan(0);
    expect(result.runs).toBeGreaterThan(20);
    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(result.checks.length).toBeGreaterThanOrEqual(10);
  },
  20 * 60_000,
);
