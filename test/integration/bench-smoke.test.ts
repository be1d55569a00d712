/**
 * The benchmark (npm run bench) once on small sizes, into a temporary folder: every part must complete. It asserts
 * nothing about speed (speed targets are read from a full run by hand, docs/benchmarks.md). Run here, beside the
 * other suites, rather than before them: it waits on PostgreSQL and restic far more than it computes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT } from '../helpers/cli.js';

test('npm run bench -- --smoke runs every part and writes its report', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-bench-smoke-'));
  try {
    const result = spawnSync(path.join(PROJECT, 'node_modules/.bin/tsx'), ['bench/run.ts', '--smoke', '--out', out], {
      cwd: PROJECT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 1_500_000,
    });
    const tail = `${result.stdout}${result.stderr}`.split('\n').slice(-40).join('\n');
    expect({ status: result.status, signal: result.signal, tail }).toEqual({
      status: 0,
      signal: null,
      tail: expect.any(String),
    });
    for (const part of ['1-3. database', '4. the backup job', '5. install of 20 profiles', '6. per-database archives'])
      expect(result.stdout).toContain(part);
    expect(fs.readFileSync(path.join(out, 'benchmarks.md'), 'utf8')).toContain('smoke sizes: not a measurement');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'benchmarks.json'), 'utf8')).environment.smoke).toBe(true);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 1_600_000);
