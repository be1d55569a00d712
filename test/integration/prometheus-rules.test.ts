/**
 * The alert rules (contrib/prometheus, shipped in the package) in Prometheus' own checker: they
 * load, and `promtool test rules` passes on series shaped like the tool's metrics; those shapes
 * are checked here against the files a real run writes, so neither can drift from the other.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { standbyLeftPaused, writeMarker } from '../../src/jobs/database/pg-marker.js';
import { createPaths } from '../../src/paths.js';
import { renderStandbyMetrics } from '../../src/reporting/status-file.js';
import { PROJECT } from '../helpers/cli.js';
import { ensurePromtool } from '../helpers/global-setup.js';
import { resticSetup } from '../helpers/restic.js';
import { removeTempRoots, tempRoot } from '../helpers/temp-root.js';

const RULES = path.join(PROJECT, 'contrib/prometheus');
const promtool = ensurePromtool();

afterAll(removeTempRoots);

function promtoolRun(...args: string[]) {
  const result = spawnSync(promtool, args, { cwd: RULES, encoding: 'utf8' });
  return { exitCode: result.status, output: `${result.stdout}${result.stderr}` };
}

/** metric name -> its label names, sorted, as a text file or a series selector names them. */
function shapes(text: string, pattern: RegExp): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of text.matchAll(pattern)) {
    const labels = [...match[2]!.matchAll(/(\w+)="/g)]
      .map((label) => label[1]!)
      .filter((label) => label !== 'instance' && label !== 'job');
    found.set(match[1]!, labels.sort().join(','));
  }
  return found;
}

test('promtool check rules: the rules load', () => {
  const result = promtoolRun('check', 'rules', 'restic-systemd.rules.yml');
  expect(result.output).toContain('SUCCESS: 6 rules found');
  expect(result.exitCode).toBe(0);
});

test('promtool test rules: each alert fires when it should, and only then', () => {
  const result = promtoolRun('test', 'rules', 'restic-systemd.rules.test.yml');
  expect(result.output).toContain('SUCCESS');
  expect(result.exitCode).toBe(0);
});

test('the test series have the names and labels of the metrics a real run writes', () => {
  const setup = resticSetup(tempRoot(), { extra: 'BACKUP_METRICS_DIR=/metrics\n' });
  setup.createRepository();
  expect(setup.cli('run', 'backup', setup.name).exitCode).toBe(0);
  const metricsFolder = path.join(setup.root, 'metrics');
  const written = [
    ...fs.readdirSync(metricsFolder).map((file) => fs.readFileSync(path.join(metricsFolder, file), 'utf8')),
    renderStandbyMetrics('db', false),
  ].join('');
  const real = shapes(written, /^(restic_systemd_\w+)\{([^}]*)\}/gm);
  const tested = shapes(
    fs.readFileSync(path.join(RULES, 'restic-systemd.rules.test.yml'), 'utf8'),
    /series: '(restic_systemd_\w+)\{([^}]*)\}'/g,
  );
  expect(tested.size).toBeGreaterThan(0);
  for (const [name, labels] of tested) expect([name, real.get(name)]).toEqual([name, labels]);
  // Every metric the rules use is one a run writes.
  const used = new Set(
    fs.readFileSync(path.join(RULES, 'restic-systemd.rules.yml'), 'utf8').match(/restic_systemd_\w+/g),
  );
  for (const name of used) expect([name, real.has(name)]).toEqual([name, true]);
});

test(
  "the standby metric is 1 while a database run's marker says replay is paused or repmgrd stopped, 0 " + 'otherwise',
  () => {
    const paths = createPaths({ root: tempRoot() });
    expect(standbyLeftPaused(paths, 'db')).toBe(false);
    const marker = { runId: 'r1', pid: 1, start: new Date().toISOString(), repmgrdStopped: false, replayPaused: true };
    writeMarker(paths, 'db', marker);
    expect(standbyLeftPaused(paths, 'db')).toBe(true);
    writeMarker(paths, 'db', { ...marker, replayPaused: false, repmgrdStopped: true });
    expect(standbyLeftPaused(paths, 'db')).toBe(true);
    // A marker that only names a spool (replay already resumed) is not a pause left behind.
    writeMarker(paths, 'db', { ...marker, replayPaused: false, spool: '/var/spool/x' });
    expect(standbyLeftPaused(paths, 'db')).toBe(false);
    expect(renderStandbyMetrics('db', true)).toContain('restic_systemd_replay_left_paused{profile="db"} 1');
  },
);
