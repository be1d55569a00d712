/**
 * What a monitor reads, sampled while the faults hit: `status --json` and the metrics files, every
 * 30 s of the soak and once at its end. Where both speak of the same run (the same end time) they
 * must give the same exit code; every failed run status shows must carry its reason (the PROBLEM
 * column and the message).
 */
import type { Container } from '../e2e/harness/container.js';

/** What `status --json` says of each job. */
export interface StatusReport {
  jobs: Array<{
    profile: string;
    job: string;
    healthy: boolean;
    result: string | null;
    exitCode: number | null;
    lastRun: string | null;
    problem: string | null;
    message: string | null;
  }>;
}

/** `status --json`; one that does not answer in JSON is an error the caller records. */
export function readStatus(container: Container): StatusReport {
  const listed = container.run(['restic-systemd', 'status', '--json'], { allowFailure: true });
  try {
    return JSON.parse(listed.stdout) as StatusReport;
  } catch {
    throw new Error(`status --json printed no JSON (exit ${listed.exitCode}): ${listed.stderr.trim().slice(-300)}`);
  }
}

/** Each job's last run in the metrics files: profile/job → its end (s since the epoch) and exit code. */
export function readMetrics(container: Container): Map<string, { end: number; exitCode: number }> {
  const text = container.sh('cat /var/lib/soak-metrics/*.prom 2>/dev/null || true').stdout;
  const runs = new Map<string, { end: number; exitCode: number }>();
  const line = /^restic_systemd_last_(run_timestamp_seconds|exit_code)\{profile="([^"]+)",task="([^"]+)"\} (\S+)$/gm;
  for (const [, metric, profile, job, value] of text.matchAll(line)) {
    const key = `${profile}/${job}`;
    const run = runs.get(key) ?? { end: 0, exitCode: -1 };
    if (metric === 'exit_code') run.exitCode = Number(value);
    else run.end = Number(value);
    runs.set(key, run);
  }
  return runs;
}

export class TruthLog {
  samples = 0;
  /** Runs both showed (the same end time), and where they disagreed. */
  compared = 0;
  readonly disagreements: string[] = [];
  /** Every failed run status showed, by profile/job and end time. */
  readonly failures = new Map<string, { exitCode: number | null; problem: string | null; message: string | null }>();

  /** One reading of both; `strict` (at the end, nothing running): every run status shows is in the metrics. */
  sample(container: Container, at: string, strict = false, given?: StatusReport): void {
    let status: StatusReport;
    let metrics: ReturnType<typeof readMetrics>;
    try {
      status = given ?? readStatus(container);
      metrics = readMetrics(container);
    } catch (error) {
      this.disagreements.push(`${at}: ${(error as Error).message}`);
      return;
    }
    this.samples++;
    for (const entry of status.jobs) {
      if (!entry.lastRun) continue;
      const key = `${entry.profile}/${entry.job}`;
      if (entry.result !== 'success' && entry.result !== 'warning') this.failures.set(`${key} ${entry.lastRun}`, entry);
      const metric = metrics.get(key);
      if (!metric) {
        if (strict) this.disagreements.push(`${at}: ${key} is not in the metrics`);
        continue;
      }
      // A run may end between the two readings: compare only what speaks of the same run.
      if (Math.abs(metric.end - Date.parse(entry.lastRun) / 1000) > 0.01) {
        if (strict) this.disagreements.push(`${at}: ${key} ended at ${entry.lastRun}, the metrics say ${metric.end}`);
        continue;
      }
      this.compared++;
      if (metric.exitCode !== entry.exitCode)
        this.disagreements.push(`${at}: ${key} exit ${entry.exitCode} in status, ${metric.exitCode} in the metrics`);
    }
  }

  /** Failed runs status showed without a reason in the PROBLEM column or the message. */
  unexplained(): string[] {
    return [...this.failures]
      .filter(([, entry]) => !entry.problem || !entry.message)
      .map(([key, entry]) => `${key} (exit ${entry.exitCode})`);
  }

  /** "10 ×2, 20 ×1": the failed runs status showed, by exit code. */
  byExitCode(): string {
    const counts = new Map<string, number>();
    for (const entry of this.failures.values())
      counts.set(String(entry.exitCode), (counts.get(String(entry.exitCode)) ?? 0) + 1);
    return [...counts].map(([code, count]) => `exit ${code} ×${count}`).join(', ') || 'none';
  }
}
