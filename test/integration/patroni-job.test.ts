/**
 * The pg-backup@ job on a replica managed by a real Patroni (Debian's patroni, with etcd), whose HA
 * loop runs every 2 s and resumes a paused replay unless the cluster is in maintenance mode
 * (test/integration/patroni-cluster.test.ts shows both). With PG_HA_MANAGER=patroni the job
 * switches maintenance mode on around the pause: sampled while the dump runs, replay stays paused.
 * Only a wrapper around pg_dumpall slows the dump down; everything else is real.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT, runCli, type CliResult } from '../helpers/cli.js';
import { PG_BIN } from '../helpers/pg-cluster.js';
import { startPatroniCluster, type PatroniCluster } from '../helpers/patroni-cluster.js';
import { createRepository } from '../helpers/restic.js';
import { RESTIC_RELEASES } from '../helpers/restic-versions.js';
import { removeTempRoots, tempRoot, writeProfile } from '../helpers/temp-root.js';

const PASSWORD = 'patroni-repository-password-5d1e';
// The host release's restic: the HA manager does not depend on restic's version.
const release = RESTIC_RELEASES.find((candidate) => candidate.suite === 'bookworm') ?? RESTIC_RELEASES[0]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cluster: PatroniCluster;
let slowDump: string;

interface Setup {
  root: string;
  cli: (...args: string[]) => CliResult;
  snapshots: () => Array<{ id: string; tags?: string[] }>;
}

function dbSetup(extra: string[] = ['PG_HA_MANAGER=patroni', `PG_PATRONI_CONFIG=${cluster.replicaConfig}`]): Setup {
  const root = tempRoot();
  fs.writeFileSync(path.join(root, 'etc/restic/db.password'), `${PASSWORD}\n`, { mode: 0o600 });
  writeProfile(
    root,
    'db',
    [
      'RESTIC_REPOSITORY=/srv/repo',
      'RESTIC_PASSWORD_FILE=/etc/restic/db.password',
      `PGHOST=${cluster.base}`,
      `PGPORT=${cluster.replicaPort}`,
      'PGUSER=postgres',
      'PGDATABASE=postgres',
      'PG_OS_USER=postgres',
      'PG_DUMP_FORMAT=sql',
      ...extra,
      '',
    ].join('\n'),
  );
  createRepository(release, path.join(root, 'srv/repo'), PASSWORD);
  const env = { RESTIC_BIN: release.binary };
  return {
    root,
    cli: (...args) => runCli(['--root', root, ...args], env),
    snapshots: () =>
      JSON.parse(runCli(['--root', root, 'exec', 'db', '--', release.binary, 'snapshots', '--json']).stdout),
  };
}

/** `run pg-backup db` in the background with the slow dump; its exit is watched from the start. */
function startJob(setup: Setup) {
  const job = spawn(
    process.execPath,
    [path.join(PROJECT, 'dist/cli.js'), '--root', setup.root, 'run', 'pg-backup', 'db'],
    {
      env: { ...process.env, RESTIC_BIN: release.binary, PG_DUMPALL_BIN: slowDump },
    },
  );
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    job.on('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  let stderr = '';
  job.stderr.on('data', (chunk) => (stderr += chunk));
  return { job, exited, running: () => exitCode === undefined, stderr: () => stderr };
}

const replayState = () => cluster.pauseState(cluster.replicaPort);

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

beforeAll(() => {
  cluster = startPatroniCluster();
  cluster.sql(cluster.leaderPort, 'CREATE DATABASE shop');
  cluster.sql(cluster.leaderPort, 'CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, 1000) g', 'shop');
  // Longer than three of Patroni's HA cycles (loop_wait 2 s): the pause must survive them.
  slowDump = path.join(cluster.base, 'slow-dump');
  fs.writeFileSync(slowDump, `#!/bin/sh\nsleep 8\nexec ${PG_BIN}/pg_dumpall "$@"\n`, { mode: 0o755 });
}, 180_000);
afterAll(() => {
  cluster?.stop();
  removeTempRoots();
});

test('without PG_HA_MANAGER=patroni, validate names Patroni and the job exits 25 before pausing anything', () => {
  const setup = dbSetup([]);
  const validate = setup.cli('validate', 'db');
  expect(validate.exitCode).not.toBe(0);
  expect(validate.stdout + validate.stderr).toContain('managed by Patroni');
  expect(validate.stdout + validate.stderr).toContain('PG_HA_MANAGER=patroni');
  const run = setup.cli('run', 'pg-backup', 'db');
  expect(run.exitCode).toBe(25);
  expect(run.stderr).toContain('PG_HA_MANAGER=patroni');
  expect(replayState()).toBe('not paused');
  expect(cluster.maintenance()).toBe(false);
  expect(setup.snapshots()).toHaveLength(0);
  // Set as the message says, validate passes: patronictl reads the cluster.
  const fixed = dbSetup();
  const revalidated = fixed.cli('validate', 'db');
  expect(revalidated.stdout + revalidated.stderr).not.toContain('Patroni');
  expect(revalidated.exitCode).toBe(0);
}, 120_000);

test('while Patroni runs, replay stays paused through the dump (sampled); maintenance mode is off after', async () => {
  const setup = dbSetup();
  const { exited, running, stderr } = startJob(setup);
  await until(() => replayState() === 'paused' || !running(), 'the job to pause replay');
  // Maintenance mode is on while replay is paused (asked once: patronictl takes half a second).
  const maintenanceSeen = cluster.maintenance();
  const samples: Array<{ at: number; state: string }> = [];
  // Until the job says it resumed replay itself, once the dump was written.
  while (running() && !stderr().includes('WAL replay resumed')) {
    samples.push({ at: Date.now(), state: replayState() });
    await sleep(250);
  }
  const exitCode = await exited;
  expect(stderr()).not.toContain('not of one point in time');
  expect(exitCode).toBe(0);
  // An 8 s dump, 4 HA cycles: paused in every sample over at least 6 s, and never again once not
  // paused (the job's own resume may come a moment before its log line does). On a loaded machine
  // the samples come slower: their span counts, not their number.
  const states = samples.map((sample) => sample.state);
  const resumed = states.indexOf('not paused') === -1 ? states.length : states.indexOf('not paused');
  const paused = samples.slice(0, resumed);
  expect(paused.length).toBeGreaterThan(5);
  expect(paused.at(-1)!.at - paused[0]!.at).toBeGreaterThan(6000);
  expect(paused.filter((sample) => sample.state !== 'paused')).toEqual([]);
  expect(states.slice(resumed).filter((state) => state === 'paused')).toEqual([]);
  expect(maintenanceSeen).toBe(true);
  expect(stderr()).toContain("Patroni's maintenance mode switched on");
  expect(stderr()).toContain("Patroni's maintenance mode switched off");
  expect(cluster.maintenance()).toBe(false);
  expect(replayState()).toBe('not paused');
  expect(setup.snapshots()).toHaveLength(1);
  expect(fs.existsSync(path.join(setup.root, 'var/lib/restic-systemd/db.pg-backup.marker.json'))).toBe(false);
}, 120_000);

test("maintenance mode switched on by someone else between the job's look and its own pause is left on", () => {
  // Fault injection: a patronictl whose pause is preceded by another one's, as if an operator had been quicker.
  const folder = fs.mkdtempSync('/var/tmp/restic-systemd-patronictl-');
  fs.chmodSync(folder, 0o755);
  const wrapper = path.join(folder, 'patronictl');
  fs.writeFileSync(
    wrapper,
    '#!/bin/sh\n' +
      'case " $* " in *" pause "*) /usr/bin/patronictl "$@" >/dev/null 2>&1 ;; esac\n' +
      'exec /usr/bin/patronictl "$@"\n',
    { mode: 0o755 },
  );
  try {
    const setup = dbSetup();
    const run = runCli(['--root', setup.root, 'run', 'pg-backup', 'db'], {
      RESTIC_BIN: release.binary,
      PATRONICTL_BIN: wrapper,
    });
    expect(run.stderr).toContain('switched on by someone else');
    expect(run.exitCode).toBe(0);
    expect(cluster.maintenance()).toBe(true);
    expect(replayState()).toBe('not paused');
  } finally {
    cluster.patronictl(['resume', '--wait']);
    fs.rmSync(folder, { recursive: true, force: true });
  }
}, 120_000);

test('maintenance mode switched on by the operator is left on', async () => {
  cluster.patronictl(['pause', '--wait']);
  try {
    const setup = dbSetup();
    const run = setup.cli('run', 'pg-backup', 'db');
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain('already in maintenance mode');
    expect(cluster.maintenance()).toBe(true);
    expect(replayState()).toBe('not paused');
    expect(setup.snapshots()).toHaveLength(1);
  } finally {
    cluster.patronictl(['resume', '--wait']);
  }
}, 120_000);

test('SIGKILL mid-dump: the pause holds, then pg-cleanup resumes replay and leaves maintenance mode', async () => {
  const setup = dbSetup();
  const { job, exited } = startJob(setup);
  const marker = path.join(setup.root, 'var/lib/restic-systemd/db.pg-backup.marker.json');
  await until(() => fs.existsSync(marker) && replayState() === 'paused', 'the job to pause replay');
  expect(JSON.parse(fs.readFileSync(marker, 'utf8'))).toMatchObject({ patroniPaused: true, replayPaused: true });
  job.kill('SIGKILL');
  await exited;
  const runId = JSON.parse(fs.readFileSync(marker, 'utf8')).runId as string;
  await until(() => spawnSync('pgrep', ['-f', `run:${runId}`]).status === 1, 'the killed run’s restic to end');
  // Three HA cycles later, Patroni has still not resumed it: maintenance mode holds.
  await sleep(6000);
  expect(replayState()).toBe('paused');
  expect(cluster.maintenance()).toBe(true);
  const cleanup = runCli(['--root', setup.root, 'run', 'pg-cleanup', 'db'], {
    RESTIC_BIN: release.binary,
    SERVICE_RESULT: 'signal',
  });
  expect(cleanup.stderr).toContain("Patroni's maintenance mode switched off");
  expect(cleanup.exitCode).toBe(0);
  expect(replayState()).toBe('not paused');
  expect(cluster.maintenance()).toBe(false);
  expect(fs.existsSync(marker)).toBe(false);
  expect(setup.snapshots()).toHaveLength(0);
}, 120_000);

// Last: the replica becomes the leader.
test('a switchover during the dump fails closed: exit 24, no snapshot, maintenance mode switched off', async () => {
  const setup = dbSetup();
  const { exited, running, stderr } = startJob(setup);
  await until(() => replayState() === 'paused' || !running(), 'the job to pause replay');
  expect(replayState()).toBe('paused');
  cluster.switchover();
  const exitCode = await exited;
  expect(stderr()).toContain('not of one point in time');
  expect(exitCode).toBe(24);
  expect(setup.snapshots()).toHaveLength(0);
  expect(cluster.maintenance()).toBe(false);
  expect(fs.existsSync(path.join(setup.root, 'var/lib/restic-systemd/db.pg-backup.marker.json'))).toBe(false);
}, 180_000);
