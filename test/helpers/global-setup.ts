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

/** A program (on PATH, or an absolute path) or a Python 3 module that must import; and the Debian package with it. */
export type RequiredTool = { binary: string; debianPackage: string } | { pythonModule: string; debianPackage: string };

export const REQUIRED_TOOLS: readonly RequiredTool[] = [
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
  // The Patroni tests (test/helpers/patroni-cluster.ts): a real Patroni cluster on an etcd of its own. Patroni's
  // etcd3 client builds on python-etcd (python3-etcd, the first of the package's alternative DCS clients).
  { binary: 'patroni', debianPackage: 'patroni' },
  { binary: 'patronictl', debianPackage: 'patroni' },
  { pythonModule: 'etcd', debianPackage: 'python3-etcd' },
  { binary: 'etcd', debianPackage: 'etcd-server' },
];

/**
 * Services that a package of the tools starts when it is installed (on a host booted with systemd, or one
 * whose policy-rc.d allows it): etcd-server starts etcd on the default ports 2379 and 2380. The tests run
 * their own etcd on ports of their own; the one the installation started is stopped and disabled.
 */
const PACKAGE_SERVICES: Readonly<Record<string, string>> = { 'etcd-server': 'etcd' };

/** Where the tests keep what they download or build: $E2E_CACHE_DIR or /var/cache/restic-systemd-tests. */
export function testCacheDir(): string {
  return process.env.E2E_CACHE_DIR ?? '/var/cache/restic-systemd-tests';
}

/** The Debian suites whose restic the restic-facing tests run against: Debian 12, Debian 13, the development suite. */
export const RESTIC_SUITES = ['bookworm', 'trixie', 'sid'] as const;
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** debootstrap's default mirror, and the restic releases' source. */
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
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

/** Whether Debian's Python 3 imports a module (/usr/bin/python3, as Debian's programs run: not a python3 of PATH). */
function hasPythonModule(module: string): boolean {
  return spawnSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

function present(tool: RequiredTool): boolean {
  return 'binary' in tool ? hasBinary(tool.binary) : hasPythonModule(tool.pythonModule);
}

function toolName(tool: RequiredTool): string {
  return 'binary' in tool ? tool.binary : `the python3 module ${tool.pythonModule}`;
}

/** Stop and disable the services that the packages just installed started (PACKAGE_SERVICES). */
function stopPackageServices(packages: string[]): void {
  for (const service of packages.map((name) => PACKAGE_SERVICES[name]).filter((name) => name !== undefined)) {
    if (fs.existsSync('/run/systemd/system')) {
      spawnSync('systemctl', ['disable', '--now', `${service}.service`], { stdio: 'ignore' });
    } else if (fs.existsSync(`/etc/init.d/${service}`)) {
      spawnSync(`/etc/init.d/${service}`, ['stop'], { stdio: 'ignore' });
      spawnSync('update-rc.d', [service, 'disable'], { stdio: 'ignore' });
    }
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

function requiredTools(): RequiredTool[] {
  const major = hostPostgresMajor();
  return [
    ...REQUIRED_TOOLS,
    { binary: `/usr/lib/postgresql/${major}/bin/initdb`, debianPackage: `postgresql-${major}` },
    { binary: `/usr/lib/postgresql/${major}/bin/repmgr`, debianPackage: `postgresql-${major}-repmgr` },
  ];
}

function ensureTools(): void {
  let missing = requiredTools().filter((tool) => !present(tool));
  if (missing.length > 0 && process.getuid?.() === 0) {
    const packages = [...new Set(missing.map((tool) => tool.debianPackage))];
    aptInstall(packages);
    stopPackageServices(packages);
    missing = requiredTools().filter((tool) => !present(tool));
  }
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((tool) => tool.debianPackage))].join(' ');
    throw new Error(
      `the tests need ${missing.map(toolName).join(', ')}: run apt-get install -y ${packages} ` +
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
      suites.map((suite) => `deb [signed-by=${KEYRING}] ${DEBIAN_MIRROR} ${suite} main\n`).join(''),
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
  /**
   * Installed from Debian's development suite (forky) on top, pinned below the release's own: the newest
   * PostgreSQL and Patroni, which no stable release has.
   */
  developmentPackages?: string[];
  /** A copy of this release's rootfs is the start, instead of a debootstrap of its own. */
  base?: DebianRelease;
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

/**
 * Patroni with its etcd, in every rootfs (test/e2e/patroni.test.ts). etcd.service is disabled at boot: the
 * Patroni test starts it. patroni.service needs /etc/patroni/config.yml and does nothing without it.
 */
const PATRONI_PACKAGES = ['patroni', 'etcd-server', 'python3-etcd'];

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
].map((release) => ({ ...release, laterPackages: [...release.laterPackages, ...PATRONI_PACKAGES] }));

/**
 * PostgreSQL 18 with the development suite's Patroni and etcd, on Debian 13 (they install there; their
 * libc comes along from forky). Booted by the Patroni and PostgreSQL 18 tests only (test/e2e/patroni.test.ts).
 */
export const DEVELOPMENT_RELEASE: DebianRelease = {
  name: 'Debian 13 + PostgreSQL 18 (forky)',
  suite: 'trixie',
  postgresMajor: 18,
  laterPackages: [],
  developmentPackages: ['postgresql-18', ...PATRONI_PACKAGES],
  base: DEBIAN_RELEASES[1],
};

/** Every root filesystem the set-up makes. */
export const ROOTFS_RELEASES: readonly DebianRelease[] = [...DEBIAN_RELEASES, DEVELOPMENT_RELEASE];

export function rootfsPackages(release: DebianRelease): string[] {
  const pg = release.postgresMajor;
  const postgres = release.developmentPackages ? [] : [`postgresql-${pg}`, `postgresql-${pg}-repmgr`, 'repmgr-common'];
  // rclone, openssl and OpenSSH: the remote repositories' servers run inside the container.
  return [
    'systemd',
    'systemd-sysv',
    'dbus',
    'restic',
    'procps',
    ...postgres,
    'rclone',
    'openssl',
    'openssh-server',
    'openssh-client',
  ];
}

// Change when the steps below change, so that a cached rootfs made by older steps is not reused.
const RECIPE_VERSION = 5;

/** Where a release's rootfs is cached, keyed by its suite, packages and recipe. */
export function rootfsPath(release: DebianRelease): string {
  const recipe = {
    suite: release.suite,
    packages: rootfsPackages(release),
    later: release.laterPackages,
    development: release.developmentPackages,
    base: release.base && path.basename(rootfsPath(release.base)),
    RECIPE_VERSION,
  };
  const key = crypto.createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 12);
  return path.join(testCacheDir(), `rootfs-${release.suite}-${key}`);
}

/** Remove cached root filesystems of recipes no longer used (700 MB each). */
function removeStaleRootfs(): void {
  const current = new Set(ROOTFS_RELEASES.map((release) => path.basename(rootfsPath(release))));
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
  const how = release.base ? `a copy of ${release.base.name}'s` : `debootstrap ${release.suite}`;
  process.stderr.write(`building the end-to-end rootfs of ${release.name} in ${target} (${how}, about a minute)\n`);
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
    if (release.base) await run('cp', ['-a', '--reflink=auto', rootfsPath(release.base), building]);
    // No mirror argument: debootstrap uses its default mirror.
    else
      await run('debootstrap', [
        '--variant=minbase',
        `--include=${rootfsPackages(release).join(',')}`,
        release.suite,
        building,
      ]);
    // In a container of its own (no boot): /proc and /dev for the packages' scripts, and the host's network.
    const inRootfs = (args: string[]) =>
      run('systemd-nspawn', ['-q', '--register=no', '--keep-unit', '-D', building, '--pipe', ...args]);
    const aptInstall = (args: string[]) =>
      inRootfs([
        '-E',
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        'install',
        '-y',
        '-q',
        '--no-install-recommends',
        ...args,
      ]);
    if (release.laterPackages.length > 0) await aptInstall(release.laterPackages);
    if (release.developmentPackages) {
      fs.writeFileSync(path.join(building, 'etc/apt/sources.list.d/forky.list'), `deb ${DEBIAN_MIRROR} forky main\n`);
      fs.writeFileSync(
        path.join(building, 'etc/apt/preferences.d/forky'),
        'Package: *\nPin: release n=forky\nPin-Priority: 100\n',
      );
      // The development suite's Release file may be past its Valid-Until on the mirror.
      await inRootfs(['apt-get', '-q', '-o', 'Acquire::Check-Valid-Until=false', 'update']);
      await aptInstall(['-t', 'forky', ...release.developmentPackages]);
    }
    await inRootfs(['apt-get', 'clean']);
    for (const service of ['prometheus-node-exporter.service', 'etcd.service'])
      if (fs.existsSync(path.join(building, 'usr/lib/systemd/system', service)))
        await run('chroot', [building, 'systemctl', 'disable', service]);
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
  // A rootfs made from another's copy waits for that one.
  const built = new Map<DebianRelease, Promise<void>>();
  for (const release of ROOTFS_RELEASES)
    built.set(release, release.base ? built.get(release.base)!.then(() => buildRootfs(release)) : buildRootfs(release));
  await Promise.all(built.values());
}
