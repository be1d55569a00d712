/**
 * The docs as tests: the command blocks of README.md, docs/user-guide.md and the restores of
 * docs/database-job.md, run in order, exactly as written, as root in a fresh Debian 12 and a
 * fresh Debian 13 booted with a real systemd. The container is on the host's network, for the
 * Quickstart's npm install (the host's npm cache makes it quick). What the pages state as given
 * is set up first: a clone of this repository, a volume mounted on /media/photos, and a
 * PostgreSQL primary + streaming standby managed by repmgr.
 */
import { Container, PROJECT_IN_CONTAINER } from './harness/container.js';
import { runnableBlocks } from './harness/docs.js';
import { RELEASE_MATRIX } from './harness/rootfs.js';

const CLONE = '/root/restic-systemd';

describe.each(RELEASE_MATRIX)('%s', (_name, release) => {
  let container: Container;

  /** Run a page's blocks in order; the first that fails ends the test with its place, code and output. */
  function runPage(page: string, folder: string): void {
    const steps = runnableBlocks(page, release);
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) {
      const run = container.run(['bash', '-c', `set -euo pipefail\ncd ${folder}\n${step.code}`], {
        allowFailure: true,
      });
      if (run.exitCode !== 0)
        throw new Error(
          `${step.where} exited ${run.exitCode}:\n${step.code}\n---- output ----\n${run.stdout}${run.stderr}`,
        );
    }
  }

  beforeAll(async () => {
    // Each release's own Node.js, which the Quickstart installs from Debian.
    container = await Container.boot(release, {
      hostNetwork: true,
      node: 'debian',
      linkCli: false,
      npmCache: true,
    });
    // Given: a clone of this repository (its working tree, without what npm install and the build make).
    container.run([
      'sh',
      '-euc',
      `mkdir ${CLONE} && tar -C ${PROJECT_IN_CONTAINER} --exclude=./node_modules --exclude=./dist ` +
        `--exclude=./build --exclude=./.git -cf - . | tar -C ${CLONE} -xf -`,
    ]);
    // Given: the volume of the user guide, and a standby managed by repmgr (primary on 5432, standby on 5433).
    container.sh('mkdir -p /media/photos/2026 && echo "a photo" > /media/photos/2026/beach.jpg');
    container.run(['sh', `${PROJECT_IN_CONTAINER}/test/e2e/container/pg-cluster.sh`]);
  }, 600_000);

  afterAll(async () => {
    await container?.stop();
  }, 60_000);

  test(
    'README.md: the Quickstart sets up and runs the first backup; then status, exec and validate work',
    () =>
      container.scenario(() => {
        runPage('README.md', CLONE);
        const status = container.run(['restic-systemd', 'status', 'myconf', '--json']);
        expect(JSON.parse(status.stdout).jobs[0]).toMatchObject({ job: 'backup', result: 'success', healthy: true });
        // On both releases: the Debian package built from the clone, run by the release's own nodejs.
        expect(container.run(['sh', '-c', 'readlink -f "$(command -v restic-systemd)"']).stdout).toContain(
          '/usr/lib/restic-systemd/dist/cli.js',
        );
        expect(container.run(['sh', '-c', 'readlink -f "$(command -v node)"']).stdout.trim()).toMatch(/^\/usr\/bin\//);
      }),
    900_000,
  );

  test(
    'docs/user-guide.md, every block in order',
    () =>
      container.scenario(() => {
        runPage('docs/user-guide.md', '/root');
        expect(container.run(['cat', '/root/restore/media/photos/2026/beach.jpg']).stdout).toBe('a photo\n');
      }),
    600_000,
  );

  test(
    'docs/database-job.md: restore of one database beside the live one, of one table, and of every database ' +
      'into a new cluster (the disaster walkthrough)',
    () =>
      container.scenario(() => {
        runPage('docs/database-job.md', '/');
        // Every row is back: in the new cluster (all databases), beside the live one, and the live one untouched.
        const rows = (port: number, database = 'app') =>
          container.psql(port, 'SELECT count(*) FROM items', { database });
        expect([rows(5434), rows(5432), rows(5432, 'app_restored'), rows(5432, 'items_back')]).toEqual([
          '5000',
          '5000',
          '5000',
          '5000',
        ]);
      }),
    600_000,
  );
});
