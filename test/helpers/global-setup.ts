import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
/**
 * The test suite's set-up, run once before every test file: the programs the suite needs (each
 * with its Debian package, installed when missing, as root), the PostgreSQL of the host's own
 * release, and every supported restic release unpacked from Debian's packages into the test cache.
 * Nothing skips: a tool that cannot be installed fails the run, naming the package. Then the
 * root filesystems of the end-to-end containers, one per supported Debian release, are made (in
 * parallel, once: they are cached).
 *
 * (jest loads this file on its own, without the suite's module mapping: it imports nothing of the
 * project. test/helpers/restic-versions.ts reads what it leaves in the cache.)
 */

export const REQUIRED_TOOLS: ReadonlyArray<{ binary: string; debianPackage: string }> = [
  { binary: 'systemd-analyze', debianPackage: 'systemd' },
  { binary: 'systemctl', debianPackage: 'systemd' },
  { binary: 'restic', debianPackage: 'restic' },
  { binary: 'rclone', debianPackage: 'rclone' },
  { binary: 'flock', debianPackage: 'util-linux' },
  { binary: 'setpriv', debianPackage: 'util-linux' },
  { binary: 'runuser', debianPackage: 'util-linux' },
  { binary: 'zstd', debianPackage: 'zstd' },
  { binary: 'pigz', debianPackage: 'pigz' },
  { binary: 'ss', debianPackage: 'iproute2' },
  { binary: 'pgrep', debianPackage: 'procps' },
  { binary: 'python3', debianPackage: 'python3' },
  { binary: 'systemd-notify', debianPackage: 'systemd' },
  { binary: 'dpkg-deb', debianPackage: 'dpkg' },
  // The man pages are checked with groff, as man renders them.
  { binary: 'groff', debianPackage: 'groff-base' },
  // --help is read on real terminals of 80 and 160 columns.
  { binary: 'tmux', debianPackage: 'tmux' },
  { binary: 'apt-get', debianPackage: 'apt' },
  // The Debian package: checked by lintian.
  { binary: 'lintian', debianPackage: 'lintian' },
  // The end-to-end tier: a real systemd booted in a container.
  { binary: 'systemd-nspawn', debianPackage: 'systemd-container' },
  { binary: 'debootstrap', debianPackage: 'debootstrap' },
  { binary: 'nsenter', debianPackage: 'util-linux' },
  // The spool tests: small file systems of their own (a loop-mounted ext4) to run out of space on.
  { binary: 'mkfs.ext4', debianPackage: 'e2fsprogs' },
  { binary: 'losetup', debianPackage: 'mount' },
  { binary: 'fallocate', debianPackage: 'util-linux' },
];

/** Where the tests keep what they download or build: $E2E_CACHE_DIR or /var/cache/restic-systemd-tests. */
export function testCacheDir(): string {
  return process.env.E2E_CACHE_DIR ?? '/var/cache/restic-systemd-tests';
}

/** The Debian suites whose restic the restic-facing tests run against: Debian 12, Debian 13, the development suite. */
export const RESTIC_SUITES = ['bookworm', 'trixie', 'sid'] as const;
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const RESTIC_REFRESH_MS = 24 * 3600 * 1000;

export interface ResticRelease {
  suite: string;
  /** restic's own version, e.g. 0.18.0 */
  version: string;
  /** The Debian package version it came from, e.g. 0.18.0-1+b4 */
  packageVersion: string;
  binary: string;
}

export function hasBinary(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', binary], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function aptInstall(packages: string[]): void {
  process.stderr.write(`\ninstalling the test tools' packages: ${packages.join(' ')}\n`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch {
    // reported by the caller with the exact command to run
  }
}

/** The PostgreSQL major version of this host's Debian release (15 on Debian 12, 17 on Debian 13). */
export function hostPostgresMajor(): number {
  const installed = fs.existsSync('/usr/lib/postgresql')
    ? fs.readdirSync('/usr/lib/postgresql').filter((entry) => fs.existsSync(`/usr/lib/postgresql/${entry}/bin/repmgr`))
    : [];
  if (installed.length > 0) return Math.max(...installed.map(Number));
  const depends = spawnSync('apt-cache', ['depends', 'postgresql'], { encoding: 'utf8' }).stdout;
  const major = /Depends: postgresql-(\d+)\b/.exec(depends)?.[1];
  if (!major)
    throw new Error(
      'cannot tell which PostgreSQL this Debian release has (apt-cache depends postgresql): run apt-get ' +
        'update, then npm test again',
    );
  return Number(major);
}

function requiredTools(): Array<{ binary: string; debianPackage: string }> {
  const major = hostPostgresMajor();
  return [
    ...REQUIRED_TOOLS,
    { binary: `/usr/lib/postgresql/${major}/bin/initdb`, debianPackage: `postgresql-${major}` },
    { binary: `/usr/lib/postgresql/${major}/bin/repmgr`, debianPackage: `postgresql-${major}-repmgr` },
  ];
}

function ensureTools(): void {
  let missing = requiredTools().filter((tool) => !hasBinary(tool.binary));
  if (missing.length > 0 && process.getuid?.() === 0) {
    aptInstall([...new Set(missing.map((tool) => tool.debianPackage))]);
    missing = requiredTools().filter((tool) => !hasBinary(tool.binary));
  }
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => tool.debianPackage))].join(' ');
    throw new Error(
      `the tests need ${missing.map((tool) => tool.binary).join(', ')}: run apt-get install -y ${packages} ` +
        `(as root), then npm test again`,
    );
  }
}

/**
 * Debian's restic of each suite, unpacked (dpkg-deb -x) into the test cache. apt runs with a
 * configuration and state of its own in a temporary folder: the host's sources and packages are
 * not touched. Refreshed once a day, so the development suite's newest restic is tested.
 */
export function ensureResticReleases(): ResticRelease[] {
  const folder = path.join(testCacheDir(), 'restic');
  const indexFile = path.join(folder, 'index.json');
  const cached = fs.existsSync(indexFile)
    ? (JSON.parse(fs.readFileSync(indexFile, 'utf8')) as ResticRelease[])
    : undefined;
  const usable = cached?.every((release) => fs.existsSync(release.binary)) ? cached : undefined;
  if (usable && Date.now() - fs.statSync(indexFile).mtimeMs < RESTIC_REFRESH_MS) return usable;
  try {
    const releases = fetchResticReleases(folder);
    fs.writeFileSync(indexFile, `${JSON.stringify(releases, null, 2)}\n`);
    return releases;
  } catch (error) {
    if (!usable) throw error;
    process.stderr.write(
      `\nwarning: could not refresh the restic releases (${(error as Error).message.split('\n')[0]}); testing ` +
        `the cached ones\n`,
    );
    return usable;
  }
}

/**
 * apt with a configuration and state of its own in a temporary folder, reading these suites: the
 * host's sources and packages are not touched. `download` fetches one package file and returns its path.
 */
function withPrivateApt<T>(suites: readonly string[], use: (download: (spec: string) => string) => T): T {
  if (!fs.existsSync(KEYRING)) throw new Error(`${KEYRING} is missing: apt-get install -y debian-archive-keyring`);
  const apt = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-apt-'));
  try {
    for (const sub of ['state/lists/partial', 'cache/archives/partial', 'preferences.d', 'download'])
      fs.mkdirSync(path.join(apt, sub), { recursive: true });
    fs.writeFileSync(
      path.join(apt, 'sources.list'),
      suites.map((suite) => `deb [signed-by=${KEYRING}] http://deb.debian.org/debian ${suite} main\n`).join(''),
    );
    const options = [
      `Dir::State=${apt}/state`,
      'Dir::State::status=/dev/null',
      `Dir::Cache=${apt}/cache`,
      `Dir::Etc::SourceList=${apt}/sources.list`,
      'Dir::Etc::SourceParts=/nonexistent',
      'Dir::Etc::Preferences=/dev/null',
      `Dir::Etc::PreferencesParts=${apt}/preferences.d`,
      // apt's sandbox user cannot read this root-only folder; the archive's signatures are still checked.
      'APT::Sandbox::User=root',
    ].flatMap((option) => ['-o', option]);
    const run = (args: string[], cwd?: string) => {
      const result = spawnSync('apt-get', [...options, ...args], { cwd, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${result.stderr}`);
    };
    run(['update', '-qq']);
    let downloads = 0;
    return use((spec) => {
      const download = path.join(apt, 'download', String(++downloads));
      fs.mkdirSync(download);
      run(['download', '-qq', spec], download);
      return path.join(download, fs.readdirSync(download)[0]!);
    });
  } finally {
    fs.rmSync(apt, { recursive: true, force: true });
  }
}

function fetchResticReleases(folder: string): ResticRelease[] {
  fs.mkdirSync(folder, { recursive: true });
  return withPrivateApt(RESTIC_SUITES, (download) =>
    RESTIC_SUITES.map((suite) => {
      const deb = download(`restic/${suite}`);
      const packageVersion = execFileSync('dpkg-deb', ['-f', deb, 'Version'], { encoding: 'utf8' }).trim();
      const target = path.join(folder, `restic_${packageVersion}`);
      if (!fs.existsSync(path.join(target, 'usr/bin/restic'))) {
        fs.rmSync(target, { recursive: true, force: true });
        execFileSync('dpkg-deb', ['-x', deb, target]);
      }
      const binary = path.join(target, 'usr/bin/restic');
      const version = /restic (\d+\.\d+\.\d+)/.exec(execFileSync(binary, ['version'], { encoding: 'utf8' }))?.[1];
      if (!version) throw new Error(`${binary} does not report a version`);
      return { suite, version, packageVersion, binary };
    }),
  );
}

/**
 * Prometheus' own checker, promtool, from Debian 13's promtool package, unpacked into the test
 * cache (Debian 12 has it only inside the prometheus package, which would start a server here).
 */
export function ensurePromtool(): string {
  const binary = path.join(testCacheDir(), 'prometheus', 'usr/bin/promtool');
  if (fs.existsSync(binary)) return binary;
  const target = path.join(testCacheDir(), 'prometheus');
  withPrivateApt(['trixie'], (download) => {
    fs.rmSync(target, { recursive: true, force: true });
    execFileSync('dpkg-deb', ['-x', download('promtool/trixie'), target]);
  });
  if (!fs.existsSync(binary)) throw new Error(`Debian's promtool package holds no ${binary}`);
  return binary;
}

export interface DebianRelease {
  /** As tests name it: "Debian 12". */
  name: string;
  suite: string;
  postgresMajor: number;
  /** Installed with apt after debootstrap (packages whose dependencies debootstrap does not resolve). */
  laterPackages: string[];
}

/**
 * What the package tests use, from the release itself: man, bash completion, node_exporter (not
 * started at boot: only its test starts it), and ansible-core with python3-apt for the Ansible
 * role; python3 and ca-certificates for the role and the TLS of remote repositories.
 */
const PACKAGE_TEST_PACKAGES = [
  'man-db',
  'bash-completion',
  'prometheus-node-exporter',
  'ansible-core',
  'python3-apt',
  'python3',
  'ca-certificates',
];

/** The Debian releases the end-to-end tier boots, each with its own Node.js (Debian 12: 18.20, Debian 13: 20.19): the
 * package depends on it. */
export const DEBIAN_RELEASES: readonly DebianRelease[] = [
  {
    name: 'Debian 12',
    suite: 'bookworm',
    postgresMajor: 15,
    laterPackages: ['nodejs', 'npm', ...PACKAGE_TEST_PACKAGES],
  },
  { name: 'Debian 13', suite: 'trixie', postgresMajor: 17, laterPackages: ['nodejs', 'npm', ...PACKAGE_TEST_PACKAGES] },
];

export function rootfsPackages(release: DebianRelease): string[] {
  const pg = release.postgresMajor;
  // rclone, openssl and OpenSSH: the remote repositories' servers run inside the container.
  return [
    'systemd',
    'systemd-sysv',
    'dbus',
    'restic',
    'procps',
    `postgresql-${pg}`,
    `postgresql-${pg}-repmgr`,
    'repmgr-common',
    'rclone',
    'openssl',
    'openssh-server',
    'openssh-client',
  ];
}

// Change when the steps below change, so that a cached rootfs made by older steps is not reused.
const RECIPE_VERSION = 4;

/** Where a release's rootfs is cached, keyed by its suite, packages and recipe. */
export function rootfsPath(release: DebianRelease): string {
  const recipe = {
    suite: release.suite,
    packages: rootfsPackages(release),
    later: release.laterPackages,
    RECIPE_VERSION,
  };
  const key = crypto.createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 12);
  return path.join(testCacheDir(), `rootfs-${release.suite}-${key}`);
}

/** Remove cached root filesystems of recipes no longer used (700 MB each). */
function removeStaleRootfs(): void {
  const current = new Set(DEBIAN_RELEASES.map((release) => path.basename(rootfsPath(release))));
  if (!fs.existsSync(testCacheDir())) return;
  for (const entry of fs.readdirSync(testCacheDir())) {
    if (entry.startsWith('rootfs-') && !current.has(entry))
      fs.rmSync(path.join(testCacheDir(), entry), { recursive: true, force: true });
  }
}

/** Make a release's rootfs (debootstrap, about 45 s) unless it is cached. */
async function buildRootfs(release: DebianRelease): Promise<void> {
  const target = rootfsPath(release);
  if (fs.existsSync(path.join(target, '.complete'))) return;
  const building = `${target}.building`;
  fs.rmSync(building, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  process.stderr.write(
    `building the end-to-end rootfs of ${release.name} in ${target} (debootstrap ${release.suite}, about a minute)\n`,
  );
  const started = Date.now();
  const run = (command: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr}`)),
      );
    });
  try {
    // No mirror argument: debootstrap uses its default mirror.
    await run('debootstrap', [
      '--variant=minbase',
      `--include=${rootfsPackages(release).join(',')}`,
      release.suite,
      building,
    ]);
    if (release.laterPackages.length > 0) {
      // In a container of its own (no boot): /proc and /dev for the packages' scripts, and the host's network.
      await run('systemd-nspawn', [
        '-q',
        '--register=no',
        '--keep-unit',
        '-D',
        building,
        '--pipe',
        '-E',
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        'install',
        '-y',
        '-q',
        '--no-install-recommends',
        ...release.laterPackages,
      ]);
      await run('systemd-nspawn', ['-q', '--register=no', '--keep-unit', '-D', building, '--pipe', 'apt-get', 'clean']);
      await run('chroot', [building, 'systemctl', 'disable', 'prometheus-node-exporter.service']);
    }
    // The postgresql package's postinst made the cluster <major>/main; the tests make their own.
    await run('chroot', [building, 'pg_dropcluster', String(release.postgresMajor), 'main']);
    fs.writeFileSync(path.join(building, 'etc/hostname'), 'e2e\n');
    fs.writeFileSync(path.join(building, '.complete'), `${new Date().toISOString()}\n`);
  } catch (error) {
    const logFile = path.join(building, 'debootstrap/debootstrap.log');
    const detail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
    fs.rmSync(building, { recursive: true, force: true });
    throw new Error(
      `building the end-to-end rootfs of ${release.name} failed: ${(error as Error).message}\n${detail}`,
      { cause: error },
    );
  }
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(building, target);
  process.stderr.write(`rootfs of ${release.name} ready in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

/** What the benchmark needs too: root, the tools, the restic releases. */
export function prepareTools(): ResticRelease[] {
  if (process.getuid?.() !== 0)
    throw new Error(
      'the tests and the benchmark need root (they run PostgreSQL as its own user and boot a container with ' +
        'systemd-nspawn): run them as root',
    );
  ensureTools();
  return ensureResticReleases();
}

export default async function globalSetup(): Promise<void> {
  const releases = prepareTools();
  process.stderr.write(
    `\nrestic releases under test: ${releases.map((release) => `${release.version} (${release.suite})`).join(', ')}\n`,
  );
  ensurePromtool();
  removeStaleRootfs();
  await Promise.all(DEBIAN_RELEASES.map(buildRootfs));
}
