/**
 * One release's soak (see cli.ts for the whole): the world built in an end-to-end container, the
 * faults of the seeded schedule applied while the timers run, then the end checks. Run by
 * `npm run soak` for as long as asked, and by test/e2e/soak.test.ts for a few minutes in CI.
 */
import fs from 'node:fs';
import { type Container } from '../e2e/harness/container.js';
import { type DebianRelease } from '../helpers/global-setup.js';
import { FAULT_KINDS, seededRandom, startFault, type FaultEvent, type FaultKind } from './faults.js';
import { TruthLog, readStatus, type StatusReport } from './truth.js';
import {
  NOTIFY_TAG,
  SECRETS,
  buildWorld,
  localRepositoryFileSystem,
  manifest,
  soakProfiles,
  writeData,
  type RepositoryKind,
  type SoakProfile,
} from './world.js';
export interface SoakOptions {
  minutes: number;
  seed: number;
  /** How many profiles, of which 3 dump the standby. */
  profiles: number;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

interface Generation {
  generation: number;
  /** When the files were written (ms since the epoch). */
  from: number;
  files: Record<string, string>;
}

export interface ReleaseResult {
  release: string;
  minutes: number;
  seed: number;
  runs: number;
  failedRuns: number;
  /** What NOTIFY_COMMAND was told, line by line. */
  notifications: string[];
  faults: FaultEvent[];
  checks: Check[];
}

const FAULT_FREE_END_S = 180;
/** A fault starts only when at least this much of it fits before the fault-free end. */
const SHORTEST_FAULT_S = 30;
/** The switchover's 2 minutes, with room for a lasting fault (at most 2 minutes) that is still on when it is due. */
const SWITCHOVER_WINDOW_S = 270;
const JOURNAL_LINES_PER_RUN = 80;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One sample of one `restic-systemd run` process: when (s), its job, RSS (KiB) and open descriptors. */
interface Sample {
  at: number;
  pid: number;
  job: string;
  rss: number;
  fds: number;
}

/** The CLI's processes now: the job, RSS (KiB) and open descriptors of each `restic-systemd run`. */
function cliSamples(container: Container): Array<Omit<Sample, 'at'>> {
  const script =
    // Anchored: this script's own command line holds the pattern too.
    'for pid in $(pgrep -f "^/usr/local/bin/node /opt/restic-systemd/dist/cli.js"); do ' +
    "rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null); " +
    'fds=$(ls /proc/$pid/fd 2>/dev/null | wc -l); ' +
    // The job of a run, else the command (status, notify, install, ended…).
    'job=$(tr "\\0" " " < /proc/$pid/cmdline 2>/dev/null | ' +
    'sed -n -e "s/.* run \\([a-z-]*\\) .*/\\1/p;t" ' +
    '-e "s/.*cli.js \\(--config-dir [^ ]* \\)\\{0,1\\}\\([a-z-]*\\).*/\\2/p"); ' +
    '[ -n "$rss" ] && echo "$pid $rss $fds $job"; done; true';
  // Not `sh -e`: a process may end between pgrep and the reads of its /proc entries.
  return container
    .run(['sh', '-c', script], { allowFailure: true })
    .stdout.split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pid, rss, fds, job] = line.split(' ');
      return { pid: Number(pid), job: job ?? '', rss: Number(rss), fds: Number(fds) };
    });
}

/**
 * Every finished run of the soak's units: unit, result, and lines it logged (by systemd's invocation id);
 * and the failures of each unit counted from systemd's own "Failed with result" lines, whatever they carry.
 */
function finishedRuns(container: Container, profiles: readonly SoakProfile[]) {
  const units = profiles.flatMap((profile) => profile.units);
  const runs: Array<{ unit: string; failed: boolean; lines: number }> = [];
  const failures = new Map<string, number>();
  for (const unit of units) {
    const text = container.run(['journalctl', '--no-pager', '-o', 'json', '-u', unit], { allowFailure: true }).stdout;
    const byInvocation = new Map<string, { lines: number; failed: boolean; ended: boolean }>();
    for (const line of text.split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry._PID === '1' && /Failed with result/.test(String(entry.MESSAGE ?? '')))
        failures.set(unit, (failures.get(unit) ?? 0) + 1);
      const id = String(entry._SYSTEMD_INVOCATION_ID ?? entry.INVOCATION_ID ?? '');
      if (!id) continue;
      const run = byInvocation.get(id) ?? { lines: 0, failed: false, ended: false };
      run.lines++;
      const message = String(entry.MESSAGE ?? '');
      if (/Failed with result/.test(message)) run.failed = true;
      if (/Failed with result|Deactivated successfully|Finished /.test(message)) run.ended = true;
      byInvocation.set(id, run);
    }
    for (const run of byInvocation.values()) if (run.ended) runs.push({ unit, failed: run.failed, lines: run.lines });
  }
  return { runs, failures };
}

/** A unit's last journal lines on one line, for a check that did not hold. */
function lastJournalLines(container: Container, unit: string, lines: number): string {
  return container
    .run(['journalctl', '--no-pager', '-o', 'short-monotonic', '-n', String(lines), '-u', unit], {
      allowFailure: true,
    })
    .stdout.trim()
    .split('\n')
    .join(' / ');
}

/** The end checks, each with what it saw. */
function endChecks(
  container: Container,
  profiles: readonly SoakProfile[],
  generations: Map<string, Generation[]>,
  samples: Sample[],
  lastFaultEnd: number,
  status: StatusReport,
  truth: TruthLog,
): { checks: Check[]; runs: number; failedRuns: number; notifications: string[] } {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const byRepository = new Map<RepositoryKind, SoakProfile>();
  for (const profile of profiles)
    if (!byRepository.has(profile.repository)) byRepository.set(profile.repository, profile);
  const restic = (profile: SoakProfile, args: string[]) =>
    container.run(
      [
        'restic-systemd',
        'exec',
        profile.name,
        '--',
        'restic',
        ...(profile.repository === 'rest' ? ['--cacert', '/etc/rest-server/cert.pem'] : []),
        ...args,
      ],
      { allowFailure: true },
    );

  for (const [kind, profile] of byRepository) {
    const checked = restic(profile, ['check', '--read-data']);
    check(
      `restic check --read-data (${kind})`,
      checked.exitCode === 0,
      checked.exitCode === 0 ? 'no errors' : checked.stderr.slice(-300),
    );
    const locks = restic(profile, ['list', 'locks', '--no-lock']);
    const count = locks.stdout.split('\n').filter(Boolean).length;
    check(`no lock left (${kind})`, locks.exitCode === 0 && count === 0, `${count} lock(s)`);
  }
  const leftovers = container.sh(
    'ls -A /var/lib/restic-systemd/spool 2>/dev/null; ls -A /run/restic-systemd 2>/dev/null | grep -v "^$" || true; ' +
      'find /var/tmp /tmp -maxdepth 4 -name "restic-systemd-verify-*" 2>/dev/null || true',
  ).stdout;
  check('no spool, decrypted credential or scratch cluster left', leftovers.trim() === '', leftovers.trim() || 'none');
  const standby = container.psql(
    5433,
    // After the switchover and back: a standby again, streaming from the primary.
    "SELECT CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() ELSE 'a primary' END || ', ' || " +
      "coalesce((SELECT status FROM pg_stat_wal_receiver), 'no WAL receiver')",
    { allowFailure: true },
  );
  const repmgrd = container.run(['systemctl', 'is-active', 'repmgrd'], { allowFailure: true }).stdout.trim();
  // Why it is not running, when it is not: its own last words and when it stopped.
  const repmgrdLog = repmgrd === 'active' ? '' : `; its journal: ${lastJournalLines(container, 'repmgrd', 6)}`;
  check(
    'the standby streams with replay not paused, repmgrd running',
    standby === 'not paused, streaming' && repmgrd === 'active',
    `${standby || 'no answer'}, repmgrd ${repmgrd}${repmgrdLog}`,
  );

  // The newest snapshot of each file profile gives back exactly the files of its generation.
  const mismatched: string[] = [];
  for (const profile of profiles.filter((candidate) => candidate.kind === 'files')) {
    const listed = restic(profile, ['snapshots', '--json', '--no-lock', '--tag', `profile:${profile.name},job:backup`]);
    const snapshots = JSON.parse(listed.stdout || '[]') as Array<{ id: string; time: string }>;
    const newest = snapshots.sort((a, b) => Date.parse(a.time) - Date.parse(b.time)).at(-1);
    if (!newest) {
      mismatched.push(`${profile.name}: no snapshot`);
      continue;
    }
    const taken = Date.parse(newest.time);
    const generation = (generations.get(profile.name) ?? []).filter((candidate) => candidate.from <= taken).at(-1);
    const target = `/var/tmp/soak-restore/${profile.name}`;
    container.run(['rm', '-rf', target]);
    restic(profile, ['restore', newest.id, '--target', target]);
    const restored = manifest(container, `${target}/srv/data/${profile.name}`);
    if (JSON.stringify(restored) !== JSON.stringify(generation?.files))
      mismatched.push(`${profile.name}: snapshot ${newest.id.slice(0, 8)} is not generation ${generation?.generation}`);
  }
  check(
    'the newest snapshot of each file profile restores to its manifest',
    mismatched.length === 0,
    mismatched.join('; ') || 'all equal',
  );

  // Every failed run was seen by NOTIFY_COMMAND (its lines: unit, result, exit code, message), and no run that
  // did not fail was called failed; the metrics and status agree on each profile's last run.
  const { runs, failures } = finishedRuns(container, profiles);
  const notified = container
    .run(['journalctl', '--no-pager', '-o', 'cat', '-t', NOTIFY_TAG], { allowFailure: true })
    .stdout.split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('-- '));
  const notifiedUnits = new Map<string, number>();
  for (const line of notified) {
    const unit = line.split(' ')[0]!;
    notifiedUnits.set(unit, (notifiedUnits.get(unit) ?? 0) + 1);
  }
  // A notification names the run's result and exit code from its status file: 'success' there means the unit
  // failed while status still shows an earlier run; no exit code, that its run wrote no status at all.
  const calledFailed = notified.filter((line) => line.split(' ')[1] === 'success');
  const withoutResult = notified.filter((line) => line.split(' ')[2] === '' || line.split(' ')[1] === 'unknown');
  const differing = [...new Set([...failures.keys(), ...notifiedUnits.keys()])]
    .filter((unit) => (failures.get(unit) ?? 0) !== (notifiedUnits.get(unit) ?? 0))
    .map((unit) => `${unit}: ${failures.get(unit) ?? 0} failed, ${notifiedUnits.get(unit) ?? 0} notified`);
  const missing = [...failures].filter(([unit, count]) => (notifiedUnits.get(unit) ?? 0) < count);
  const failedRuns = [...failures.values()].reduce((sum, count) => sum + count, 0);
  check(
    'every failed run notified (NOTIFY_COMMAND) with its failure and exit code',
    missing.length === 0 && calledFailed.length === 0 && withoutResult.length === 0,
    `${failedRuns} failed run(s), ${notified.length} notification(s)` +
      (differing.length > 0 ? `; ${differing.join('; ')}` : '') +
      (calledFailed.length > 0 ? `; ${calledFailed.length} saying "success": ${calledFailed.join(' / ')}` : '') +
      (withoutResult.length > 0 ? `; ${withoutResult.length} without a result: ${withoutResult.join(' / ')}` : ''),
  );
  // Read again once the running jobs have ended: a profile late at the reading with a run going (queued for the
  // repository lock behind the other profiles of its repository) recovered if that run succeeded, ending after the
  // last fault. Its previous run may have ended before the last fault: what counts is the success after it.
  let after: StatusReport | undefined;
  try {
    after = readStatus(container);
  } catch {
    // Then no late profile counts as recovered, and the end truth sample reads (and reports) it again.
  }
  const waited: string[] = [];
  const unrecovered = profiles
    .map((profile) => {
      const job = profile.kind === 'files' ? 'backup' : 'pg-backup';
      const find = (read: StatusReport | undefined) =>
        read?.jobs.find((entry) => entry.profile === profile.name && entry.job === job);
      const report = find(status);
      const lastRun = report?.lastRun ? Date.parse(report.lastRun) : 0;
      if (report && report.healthy && report.result === 'success' && lastRun > lastFaultEnd) return undefined;
      const then = find(after);
      if (
        report?.problem?.includes('a run has been going') &&
        then?.result === 'success' &&
        then.lastRun &&
        Date.parse(then.lastRun) > Math.max(lastRun, lastFaultEnd)
      ) {
        waited.push(`${profile.name} (${report.problem.split('; ').at(-1)})`);
        return undefined;
      }
      // What held it back (a lock it waited for, a timer not firing): its unit's last words.
      const unit = `${profile.kind === 'files' ? 'restic' : 'pg-backup'}@${profile.name}.service`;
      return (
        `${profile.name}/${job}: ${report?.result ?? 'no run'}${report?.problem ? ` (${report.problem})` : ''}; ` +
        `its journal: ${lastJournalLines(container, unit, 6)}`
      );
    })
    .filter((line): line is string => line !== undefined);
  check(
    'every profile succeeded again after the last fault (status --json)',
    unrecovered.length === 0,
    (unrecovered.join('; ') || 'all') +
      (waited.length > 0 ? `; late at the reading with a run going, which then succeeded: ${waited.join(', ')}` : ''),
  );
  truth.sample(container, 'the end', true, after);
  check(
    'status and the metrics give each run the same exit code (every 30 s of the soak, and at its end)',
    truth.disagreements.length === 0 && truth.compared > 0,
    `${truth.compared} run(s) compared in ${truth.samples} readings` +
      (truth.disagreements.length > 0 ? `; ${truth.disagreements.slice(0, 10).join('; ')}` : ''),
  );
  const unexplained = truth.unexplained();
  check(
    'every failed run status showed has its reason (PROBLEM and message)',
    unexplained.length === 0,
    `${truth.failures.size} failed run(s) seen: ${truth.byExitCode()}` +
      (unexplained.length > 0 ? `; without a reason: ${unexplained.join(', ')}` : ''),
  );
  const metrics = container.sh('cat /var/lib/soak-metrics/*.prom 2>/dev/null || true').stdout;
  const leaked = SECRETS.filter((secret) => metrics.includes(secret) || notified.some((line) => line.includes(secret)));
  check(
    'no secret in the metrics or the notifications',
    leaked.length === 0,
    leaked.length === 0 ? 'none' : `${leaked.length} found`,
  );

  // The CLI's memory and descriptors. Each run is a process of its own, so what could grow is what a run
  // costs as the soak's state grows. RSS: per job, the median of the processes' peaks in the last quarter
  // against the first, only processes sampled twice or more (one sample catches node anywhere in its
  // start-up). Descriptors depend on the phase a sample meets (how many children's pipes are open at once:
  // restic, systemd-analyze, a ping), so one run can peak anywhere: the median peak of the last quarter
  // against the most any process held in the three before (a leak grows every run, not one), and no
  // process ever above four times the median before (a leak within one long run).
  const span = Math.max(...samples.map((sample) => sample.at), 1);
  const byProcess = (job: string, from: number, to: number) => {
    const seen = new Map<number, { count: number; rss: number; fds: number }>();
    for (const sample of samples)
      if (sample.job === job && sample.at >= from * span && sample.at <= to * span) {
        const known = seen.get(sample.pid) ?? { count: 0, rss: 0, fds: 0 };
        seen.set(sample.pid, {
          count: known.count + 1,
          rss: Math.max(known.rss, sample.rss),
          fds: Math.max(known.fds, sample.fds),
        });
      }
    return [...seen.values()];
  };
  const median = (values: number[]) => {
    const sorted = values.sort((left, right) => left - right);
    return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!;
  };
  const medianRss = (processes: Array<{ count: number; rss: number }>) =>
    median(processes.filter((process) => process.count >= 2).map((process) => process.rss));
  const medianFds = (processes: Array<{ fds: number }>) => median(processes.map((process) => process.fds));
  const mostFds = (processes: Array<{ fds: number }>) => Math.max(0, ...processes.map((process) => process.fds));
  const grown: string[] = [];
  const seen: string[] = [];
  for (const job of [...new Set(samples.map((sample) => sample.job))]) {
    const [first, before, last] = [byProcess(job, 0, 0.25), byProcess(job, 0, 0.75), byProcess(job, 0.75, 1)];
    const [rssFirst, rssLast] = [medianRss(first), medianRss(last)];
    const [fdsBefore, fdsLast, fdsMost] = [mostFds(before), medianFds(last), Math.max(mostFds(before), mostFds(last))];
    const fdsCeiling = 4 * medianFds(before);
    if (rssFirst === 0 || rssLast === 0) continue;
    seen.push(
      `${job || '?'} ${Math.round(rssFirst / 1024)}→${Math.round(rssLast / 1024)} MiB, ` +
        `${fdsBefore}→${fdsLast} fds (most ${fdsMost}, ceiling ${fdsCeiling})`,
    );
    if (rssLast > rssFirst * 1.25 || fdsLast > Math.max(fdsBefore * 1.25, fdsBefore + 2) || fdsMost > fdsCeiling)
      grown.push(job);
  }
  check(
    "the CLI's RSS and open descriptors flat (per job: median RSS peak per run; median descriptors now, most before)",
    seen.length > 0 && grown.length === 0,
    `${seen.join('; ')}; ${samples.length} samples${grown.length > 0 ? `; grown: ${grown.join(', ')}` : ''}`,
  );
  const most = Math.max(0, ...runs.map((run) => run.lines));
  check(
    `journal lines per run bounded (≤ ${JOURNAL_LINES_PER_RUN})`,
    most <= JOURNAL_LINES_PER_RUN,
    `at most ${most} in one run`,
  );
  return { checks, runs: runs.length, failedRuns, notifications: notified };
}

export async function soakRelease(release: DebianRelease, options: SoakOptions): Promise<ReleaseResult> {
  const base = fs.mkdtempSync('/var/tmp/restic-systemd-soak-fs-');
  const local = localRepositoryFileSystem(base);
  const profiles = soakProfiles(options.profiles, 3);
  const random = seededRandom(options.seed);
  const log = (line: string) => process.stderr.write(`[${release.name}] ${line}\n`);
  let container: Container | undefined;
  try {
    log(`building the world: ${profiles.length} profiles on 3 repositories`);
    container = await buildWorld(release, profiles, local.folder);
    const generations = new Map<string, Generation[]>();
    for (const profile of profiles.filter((candidate) => candidate.kind === 'files'))
      generations.set(profile.name, [
        { generation: 0, from: Date.now(), files: manifest(container, `/srv/data/${profile.name}`) },
      ]);
    const started = Date.now();
    const seconds = () => (Date.now() - started) / 1000;
    const end = options.minutes * 60;
    const faults: FaultEvent[] = [];
    const pending: Array<{ at: number; event: FaultEvent; undo: () => void }> = [];
    const samples: Sample[] = [];
    const truth = new TruthLog();
    let nextTruth = 30;
    let nextFault = 30 + random() * 60;
    let nextData = 45;
    let generation = 0;
    let lastFaultEnd = started;
    // Once, where its 2 minutes (and a fault before it that still lasts) end before the fault-free end.
    const switchoverLatest = end - FAULT_FREE_END_S - SWITCHOVER_WINDOW_S;
    let switchoverAt: number | undefined = switchoverLatest >= 60 ? 60 + random() * (switchoverLatest - 60) : undefined;
    if (switchoverAt === undefined) log(`no switchover: a run of ${options.minutes} minutes is too short for it`);
    while (seconds() < end) {
      const now = seconds();
      for (const due of pending.filter((item) => item.at <= now)) {
        due.undo();
        due.event.endedAt = Math.round(now);
        lastFaultEnd = Date.now();
        log(`${Math.round(now)} s: ${due.event.kind} ended`);
        pending.splice(pending.indexOf(due), 1);
      }
      const apply = (kind: FaultKind) => {
        const applied = startFault(container!, kind, random, profiles);
        const event: FaultEvent = { kind, at: Math.round(now), target: applied.target };
        faults.push(event);
        lastFaultEnd = Date.now();
        log(`${event.at} s: ${kind} ${applied.target || '(nothing to hit)'}`);
        // A lasting fault is cut short where the fault-free end begins: recovery is checked on what follows.
        const endsAt = Math.min(now + (applied.end?.afterSeconds ?? 0), end - FAULT_FREE_END_S);
        if (applied.end) pending.push({ at: endsAt, event, undo: applied.end.undo });
      };
      if (switchoverAt !== undefined && now >= switchoverAt && pending.length === 0) {
        apply('switchover');
        switchoverAt = undefined;
      } else if (now >= nextFault && now < end - FAULT_FREE_END_S - SHORTEST_FAULT_S && pending.length === 0) {
        apply(FAULT_KINDS[Math.floor(random() * FAULT_KINDS.length)]!);
        nextFault = now + 45 + random() * 75;
      }
      if (now >= nextData) {
        // A new generation of every file profile not being backed up right now.
        generation++;
        for (const profile of profiles.filter((candidate) => candidate.kind === 'files')) {
          const active = container.run(['systemctl', 'is-active', `restic@${profile.name}.service`], {
            allowFailure: true,
          });
          if (active.stdout.trim() === 'activating') continue;
          const files = writeData(container, profile.name, generation);
          generations.get(profile.name)!.push({ generation, from: Date.now(), files });
        }
        nextData += 60;
      }
      if (now >= nextTruth) {
        truth.sample(container, `${Math.round(now)} s`);
        nextTruth = now + 30;
      }
      for (const sample of cliSamples(container)) samples.push({ at: seconds(), ...sample });
      await sleep(2000);
    }
    for (const due of pending) {
      due.undo();
      due.event.endedAt = Math.round(seconds());
    }
    // What a monitor reads while the timers run: once they are stopped, a minutely profile is overdue within
    // two minutes, and the wait below for the running jobs (a drill, maintenance) can take longer.
    let status: StatusReport = { jobs: [] };
    try {
      status = readStatus(container);
    } catch (error) {
      log((error as Error).message);
    }
    log('stopping the timers, waiting for the running jobs');
    container.sh(
      'systemctl stop "restic@*.timer" "restic-maintenance@*.timer" "pg-backup@*.timer" "pg-verify@*.timer"',
    );
    // Their notifications too: a unit that failed last has its notification's start queued, not yet activating.
    for (let tries = 0; tries < 600; tries++) {
      const active = container.run(
        ['systemctl', 'list-units', '--no-legend', '--state=activating', 'restic*', 'pg-*'],
        { allowFailure: true },
      ).stdout;
      const queued = container.run(['systemctl', 'list-jobs', '--no-legend'], { allowFailure: true }).stdout;
      if (active.trim() === '' && !/restic|pg-/.test(queued)) break;
      await sleep(1000);
    }
    log('end checks');
    const ended = endChecks(container, profiles, generations, samples, lastFaultEnd, status, truth);
    return { release: release.name, minutes: options.minutes, seed: options.seed, faults, ...ended };
  } finally {
    await container?.stop().catch((error: Error) => log(`stopping the container: ${error.message}`));
    local.release();
    fs.rmSync(base, { recursive: true, force: true });
  }
}

export function markdown(results: readonly ReleaseResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    const byKind = new Map<string, number>();
    for (const fault of result.faults) byKind.set(fault.kind, (byKind.get(fault.kind) ?? 0) + 1);
    lines.push(
      `### ${result.release}: ${result.minutes} minutes, seed ${result.seed}`,
      '',
      `${result.runs} runs, ${result.failedRuns} failed; faults: ` +
        ([...byKind].map(([kind, count]) => `${kind} ${count}`).join(', ') || 'none'),
      '',
      '| end check | held | what was seen |',
      '| --- | --- | --- |',
      ...result.checks.map(
        (entry) => `| ${entry.name} | ${entry.ok ? 'yes' : '**no**'} | ${entry.detail.replaceAll('|', '\\|')} |`,
      ),
      '',
      '| time (s) | fault | target | ended (s) |',
      '| --- | --- | --- | --- |',
      ...result.faults.map(
        (fault) => `| ${fault.at} | ${fault.kind} | ${fault.target || '(nothing running)'} | ${fault.endedAt ?? ''} |`,
      ),
      '',
    );
  }
  return lines.join('\n');
}
