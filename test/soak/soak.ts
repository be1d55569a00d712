/**
 * `npm run soak -- --minutes N [--release bookworm|trixie|all] [--seed S] [--profiles 20] [--out DIR]`:
 * hours of load and faults in a real systemd. In an end-to-end container of each Debian release
 * (world.ts), 20 profiles run every minute on three shared repositories while faults from a seeded
 * schedule hit them (faults.ts); the data of each file profile changes every minute, with a
 * manifest per generation. The last minutes have no fault (every profile must recover within two
 * cycles); then the timers stop and the end checks run and print as a table: restic check
 * --read-data of every repository, no lock, spool, decrypted credential or scratch cluster left,
 * replay resumed and repmgrd running, the newest snapshot of each file profile restores to the
 * manifest of its generation, every failed run seen by status, the metrics and NOTIFY_COMMAND,
 * every profile healthy again, the CLI's RSS and open descriptors flat, journal lines per run
 * bounded. Results go to DIR (default /var/tmp/restic-systemd-soak) as JSON and Markdown.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Container } from '../e2e/harness/container.js';
import globalSetup, { DEBIAN_RELEASES, type DebianRelease } from '../helpers/global-setup.js';
import { FAULT_KINDS, seededRandom, startFault, type FaultEvent } from './faults.js';
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

interface Options {
  minutes: number;
  releases: DebianRelease[];
  seed: number;
  profiles: number;
  out: string;
}

interface Check {
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

interface ReleaseResult {
  release: string;
  minutes: number;
  seed: number;
  runs: number;
  failedRuns: number;
  faults: FaultEvent[];
  checks: Check[];
}

const FAULT_FREE_END_S = 180;
const JOURNAL_LINES_PER_RUN = 80;

function parseOptions(argv: string[]): Options {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const minutes = Number(value('--minutes') ?? 10);
  if (!Number.isFinite(minutes) || minutes < 5) throw new Error('--minutes must be 5 or more');
  const release = value('--release') ?? 'all';
  const releases = DEBIAN_RELEASES.filter((candidate) => release === 'all' || candidate.suite === release);
  if (releases.length === 0) throw new Error(`--release: bookworm, trixie or all, not ${release}`);
  return {
    minutes,
    releases,
    seed: Number(value('--seed') ?? 2026),
    profiles: Number(value('--profiles') ?? 20),
    out: value('--out') ?? '/var/tmp/restic-systemd-soak',
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The CLI's processes now: the job, RSS (KiB) and open descriptors of each `restic-systemd run`. */
function cliSamples(container: Container): Array<{ job: string; rss: number; fds: number }> {
  const script =
    // Anchored: this script's own command line holds the pattern too.
    'for pid in $(pgrep -f "^/usr/local/bin/node /opt/restic-systemd/dist/cli.js"); do ' +
    "rss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null); " +
    'fds=$(ls /proc/$pid/fd 2>/dev/null | wc -l); ' +
    'job=$(tr "\\0" " " < /proc/$pid/cmdline 2>/dev/null | sed -n "s/.* run \\([a-z-]*\\) .*/\\1/p"); ' +
    '[ -n "$rss" ] && echo "$rss $fds $job"; done; true';
  // Not `sh -e`: a process may end between pgrep and the reads of its /proc entries.
  return container
    .run(['sh', '-c', script], { allowFailure: true })
    .stdout.split('\n')
    .filter(Boolean)
    .map((line) => {
      const [rss, fds, job] = line.split(' ');
      return { job: job ?? '', rss: Number(rss), fds: Number(fds) };
    });
}

/** Every finished run of the soak's units: unit, result, and lines it logged (by systemd's invocation id). */
function finishedRuns(container: Container, profiles: readonly SoakProfile[]) {
  const units = profiles.flatMap((profile) => profile.units);
  const runs: Array<{ unit: string; failed: boolean; lines: number }> = [];
  for (const unit of units) {
    const text = container.run(['journalctl', '--no-pager', '-o', 'json', '-u', unit], { allowFailure: true }).stdout;
    const byInvocation = new Map<string, { lines: number; failed: boolean; ended: boolean }>();
    for (const line of text.split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as Record<string, unknown>;
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
  return runs;
}

/** The end checks, each with what it saw. */
function endChecks(
  container: Container,
  profiles: readonly SoakProfile[],
  generations: Map<string, Generation[]>,
  samples: Array<{ at: number; job: string; rss: number; fds: number }>,
  lastFaultEnd: number,
): { checks: Check[]; runs: number; failedRuns: number } {
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
  const standby = container
    .run([
      'runuser',
      '-u',
      'postgres',
      '--',
      'psql',
      '-X',
      '-At',
      '-h',
      '/run/postgresql',
      '-p',
      '5433',
      '-c',
      'SELECT pg_get_wal_replay_pause_state()',
    ])
    .stdout.trim();
  const repmgrd = container.run(['systemctl', 'is-active', 'repmgrd'], { allowFailure: true }).stdout.trim();
  check(
    'replay not paused, repmgrd running',
    standby === 'not paused' && repmgrd === 'active',
    `${standby}, repmgrd ${repmgrd}`,
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

  // Every failed run was seen by NOTIFY_COMMAND; the metrics and status agree on each profile's last run.
  const runs = finishedRuns(container, profiles);
  const failed = runs.filter((run) => run.failed);
  const notified = container
    .run(['journalctl', '--no-pager', '-o', 'cat', '-t', NOTIFY_TAG], { allowFailure: true })
    .stdout.split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('-- '));
  const unnotified = failed.length - notified.length;
  check(
    'every failed run notified (NOTIFY_COMMAND)',
    notified.length >= failed.length,
    `${failed.length} failed run(s), ${notified.length} notification(s)` +
      (unnotified > 0 ? `, ${unnotified} missing` : ''),
  );
  const status = JSON.parse(container.run(['restic-systemd', 'status', '--json'], { allowFailure: true }).stdout) as {
    jobs: Array<{
      profile: string;
      job: string;
      healthy: boolean;
      result: string | null;
      lastRun: string | null;
      problem: string | null;
    }>;
  };
  const unrecovered = profiles
    .map((profile) => {
      const job = profile.kind === 'files' ? 'backup' : 'pg-backup';
      const report = status.jobs.find((entry) => entry.profile === profile.name && entry.job === job);
      const lastRun = report?.lastRun ? Date.parse(report.lastRun) : 0;
      return report && report.healthy && report.result === 'success' && lastRun > lastFaultEnd
        ? undefined
        : `${profile.name}/${job}: ${report?.result ?? 'no run'}${report?.problem ? ` (${report.problem})` : ''}`;
    })
    .filter((line): line is string => line !== undefined);
  check(
    'every profile succeeded again after the last fault (status --json)',
    unrecovered.length === 0,
    unrecovered.join('; ') || 'all',
  );
  const metrics = container.sh('cat /var/lib/soak-metrics/*.prom 2>/dev/null || true').stdout;
  const metricDisagrees = status.jobs
    .filter((entry) => entry.result !== null)
    .filter((entry) => {
      const code = new RegExp(
        `restic_systemd_last_exit_code\\{[^}]*profile="${entry.profile}"[^}]*job="${entry.job}"[^}]*\\} (\\d+)`,
      ).exec(metrics);
      return code !== null && (Number(code[1]) === 0) !== (entry.result === 'success' || entry.result === 'warning');
    })
    .map((entry) => `${entry.profile}/${entry.job}`);
  check('the metrics say what status says', metricDisagrees.length === 0, metricDisagrees.join(', ') || 'they agree');
  const leaked = SECRETS.filter((secret) => metrics.includes(secret) || notified.some((line) => line.includes(secret)));
  check(
    'no secret in the metrics or the notifications',
    leaked.length === 0,
    leaked.length === 0 ? 'none' : `${leaked.length} found`,
  );

  // The CLI's memory and descriptors: each job's largest in the last quarter of the soak against its largest in
  // the first (jobs differ: a restore drill holds more pipes than a backup).
  const span = Math.max(...samples.map((sample) => sample.at), 1);
  const largest = (job: string, from: number, to: number, key: 'rss' | 'fds') =>
    Math.max(
      0,
      ...samples
        .filter((sample) => sample.job === job && sample.at >= from * span && sample.at <= to * span)
        .map((sample) => sample[key]),
    );
  const grown: string[] = [];
  const seen: string[] = [];
  for (const job of [...new Set(samples.map((sample) => sample.job))]) {
    const [rssFirst, rssLast, fdsFirst, fdsLast] = [
      largest(job, 0, 0.25, 'rss'),
      largest(job, 0.75, 1, 'rss'),
      largest(job, 0, 0.25, 'fds'),
      largest(job, 0.75, 1, 'fds'),
    ];
    if (rssFirst === 0 || rssLast === 0) continue;
    seen.push(
      `${job || '?'} ${Math.round(rssFirst / 1024)}→${Math.round(rssLast / 1024)} MiB ${fdsFirst}→${fdsLast} fds`,
    );
    if (rssLast > rssFirst * 1.5 || fdsLast > fdsFirst + 5) grown.push(job);
  }
  check(
    "the CLI's RSS and open descriptors flat (each job's largest, last quarter against the first)",
    seen.length > 0 && grown.length === 0,
    `${seen.join('; ')}; ${samples.length} samples${grown.length > 0 ? `; grown: ${grown.join(', ')}` : ''}`,
  );
  const most = Math.max(0, ...runs.map((run) => run.lines));
  check(
    `journal lines per run bounded (≤ ${JOURNAL_LINES_PER_RUN})`,
    most <= JOURNAL_LINES_PER_RUN,
    `at most ${most} in one run`,
  );
  return { checks, runs: runs.length, failedRuns: failed.length };
}

async function soakRelease(release: DebianRelease, options: Options): Promise<ReleaseResult> {
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
    const samples: Array<{ at: number; job: string; rss: number; fds: number }> = [];
    let nextFault = 30 + random() * 60;
    let nextData = 45;
    let generation = 0;
    let lastFaultEnd = started;
    while (seconds() < end) {
      const now = seconds();
      for (const due of pending.filter((item) => item.at <= now)) {
        due.undo();
        due.event.endedAt = Math.round(now);
        lastFaultEnd = Date.now();
        log(`${Math.round(now)} s: ${due.event.kind} ended`);
        pending.splice(pending.indexOf(due), 1);
      }
      if (now >= nextFault && now < end - FAULT_FREE_END_S && pending.length === 0) {
        const kind = FAULT_KINDS[Math.floor(random() * FAULT_KINDS.length)]!;
        const applied = startFault(container, kind, random, profiles);
        const event: FaultEvent = { kind, at: Math.round(now), target: applied.target };
        faults.push(event);
        lastFaultEnd = Date.now();
        log(`${event.at} s: ${kind} ${applied.target || '(nothing to hit)'}`);
        if (applied.end) pending.push({ at: now + applied.end.afterSeconds, event, undo: applied.end.undo });
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
      for (const sample of cliSamples(container)) samples.push({ at: seconds(), ...sample });
      await sleep(2000);
    }
    for (const due of pending) {
      due.undo();
      due.event.endedAt = Math.round(seconds());
    }
    log('stopping the timers, waiting for the running jobs');
    container.sh(
      'systemctl stop "restic@*.timer" "restic-maintenance@*.timer" "pg-backup@*.timer" "pg-verify@*.timer"',
    );
    for (let tries = 0; tries < 600; tries++) {
      const active = container.run(
        ['systemctl', 'list-units', '--no-legend', '--state=activating', 'restic*', 'pg-*'],
        {
          allowFailure: true,
        },
      ).stdout;
      if (active.trim() === '') break;
      await sleep(1000);
    }
    log('end checks');
    const { checks, runs, failedRuns } = endChecks(container, profiles, generations, samples, lastFaultEnd);
    return { release: release.name, minutes: options.minutes, seed: options.seed, runs, failedRuns, faults, checks };
  } finally {
    await container?.stop().catch((error: Error) => log(`stopping the container: ${error.message}`));
    local.release();
    fs.rmSync(base, { recursive: true, force: true });
  }
}

function markdown(results: readonly ReleaseResult[]): string {
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

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  await globalSetup();
  const results: ReleaseResult[] = [];
  for (const release of options.releases) results.push(await soakRelease(release, options));
  fs.mkdirSync(options.out, { recursive: true });
  const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
  fs.writeFileSync(path.join(options.out, `soak-${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  const report = markdown(results);
  fs.writeFileSync(path.join(options.out, `soak-${stamp}.md`), report);
  process.stdout.write(report);
  const failed = results.flatMap((result) =>
    result.checks.filter((entry) => !entry.ok).map((entry) => `${result.release}: ${entry.name}`),
  );
  if (failed.length > 0) {
    process.stderr.write(`\nend checks that did not hold:\n${failed.join('\n')}\n`);
    process.exit(1);
  }
}

main().catch((error: Error) => {
  process.stderr.write(`soak: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
