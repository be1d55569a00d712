/**
 * Measuring whole processes: wall time, the peak resident memory of the process itself (read from
 * /proc while it runs), and medians over alternating repetitions.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';

export interface ProcessRun {
  seconds: number;
  exitCode: number;
  stderr: string;
  stdout: string;
  /** Peak resident set of the spawned process alone (VmHWM), in bytes. */
  peakRssBytes: number;
  /** How long a process named `watch` (e.g. pg_dumpall) lived during the run, in seconds. */
  watchedSeconds?: number;
}

export interface RunSpec {
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** A process name (its comm) whose lifetime is measured while this runs. */
  watch?: string;
}

const POLL_MS = 20;

function peakRss(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function running(comm: string): boolean {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) return true;
    } catch {
      // ended meanwhile
    }
  }
  return false;
}

/** Run one process to its end; throws when it fails, with its stderr. */
export function measure(spec: RunSpec): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      env: spec.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    let peak = 0;
    let watchedFrom: bigint | undefined;
    let watchedTo: bigint | undefined;
    const poll = setInterval(() => {
      peak = Math.max(peak, peakRss(child.pid!) ?? 0);
      if (spec.watch && running(spec.watch)) {
        watchedFrom ??= process.hrtime.bigint();
        watchedTo = process.hrtime.bigint();
      }
    }, POLL_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const run: ProcessRun = { seconds, exitCode: code ?? 128, stdout, stderr, peakRssBytes: peak };
      if (watchedFrom !== undefined && watchedTo !== undefined)
        run.watchedSeconds = Number(watchedTo - watchedFrom) / 1e9;
      if (run.exitCode !== 0)
        reject(new Error(`${spec.argv.join(' ')} exited ${run.exitCode}:\n${stderr.slice(-2000)}`));
      else resolve(run);
    });
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Run each variant `repetitions` times, alternating (A B A B …) so that drift of the machine touches every variant
 * alike. */
export async function alternate<K extends string, R>(
  variants: readonly K[],
  repetitions: number,
  runOnce: (variant: K, repetition: number) => Promise<R>,
): Promise<Record<K, R[]>> {
  const results = Object.fromEntries(variants.map((variant) => [variant, [] as R[]])) as Record<K, R[]>;
  for (let repetition = 0; repetition < repetitions; repetition++) {
    for (const variant of variants) results[variant].push(await runOnce(variant, repetition));
  }
  return results;
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
export const mib = (bytes: number) => round(bytes / 1024 / 1024, 1);
