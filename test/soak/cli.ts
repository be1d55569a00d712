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
import globalSetup, { DEBIAN_RELEASES, type DebianRelease } from '../helpers/global-setup.js';
import { markdown, soakRelease, type ReleaseResult, type SoakOptions } from './soak.js';

interface Options extends SoakOptions {
  releases: DebianRelease[];
  out: string;
}

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
