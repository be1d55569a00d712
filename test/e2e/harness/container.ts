/**
 * A real systemd in a container: the cached rootfs of a Debian release booted with systemd-nspawn
 * (throw-away overlay, private network, the host's node binary and this project bind-mounted read-only),
 * commands run inside with nsenter, the journal read back, and a teardown that checks it left no
 * process, mount or cgroup behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT } from '../../helpers/cli.js';
import { readyRootfs, type DebianRelease } from './rootfs.js';

/** Where the project is inside the container; `restic-systemd` on the container's PATH runs its dist/cli.js. */
export const PROJECT_IN_CONTAINER = '/opt/restic-systemd';
const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BOOT_TIMEOUT_MS = 60_000;

/** The cgroup hierarchies nspawn uses: the hybrid layout's two (as on these machines), or the unified one alone. */
function cgroupHierarchies(): string[] {
  const hybrid = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'].filter((hierarchy) => fs.existsSync(hierarchy));
  return hybrid.length > 0 ? hybrid : ['/sys/fs/cgroup'];
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  /** Return a failed result instead of throwing. */
  allowFailure?: boolean;
  env?: Record<string, string>;
}

export interface BootOptions {
  /**
   * The host's network instead of a private one with loopback only: for the docs' steps that
   * install from npm's and Debian's registries.
   */
  hostNetwork?: boolean;
  /**
   * Node.js in the container: 'host' binds this host's node (and npm) under /usr/local, as
   * Node.js from NodeSource would be on Debian 12 (default); 'debian' binds nothing: the
   * release's own nodejs package (Debian 13's is new enough), or one the test installs.
   */
  node?: 'host' | 'debian';
  /** Host files or folders to show read-only in the container: [host path, container path]. */
  binds?: ReadonlyArray<[string, string]>;
  /** Host folders the container may write to (the soak's small repository file system): [host path, container path]. */
  writableBinds?: ReadonlyArray<[string, string]>;
  /** Link restic-systemd on PATH to the project (as `npm install -g` would); false when a test installs it itself. */
  linkCli?: boolean;
  /** This host's npm cache as root's in the container: `npm install` there fetches from it first. */
  npmCache?: boolean;
}

let containerCount = 0;
const running = new Set<Container>();
// A test run that ends abruptly still kills its containers.
process.on('exit', () => running.forEach((container) => container.kill()));

export class Container {
  private constructor(
    readonly release: DebianRelease,
    readonly name: string,
    /** Variables every command in the container gets (the host's CA for a host-network container). */
    private readonly commandEnv: Record<string, string>,
    private readonly nspawn: ChildProcess,
    /** The container's systemd, as a process of this host. */
    readonly pid1: number,
    private readonly pidNamespace: string,
    private readonly cgroups: string[],
    private readonly consoleLog: string,
  ) {}

  /** Boot a container of the release and wait until its systemd reports "running". */
  static async boot(release: DebianRelease, options: BootOptions = {}): Promise<Container> {
    const rootfs = readyRootfs(release);
    const name = `rsd-e2e-${release.suite}-${process.pid}-${++containerCount}`;
    // A cgroup of its own: nspawn makes payload/ and supervisor/ in its caller's cgroup, and
    // containers booted at once by two test workers must not share them.
    const cgroups = cgroupHierarchies().map((hierarchy) => path.join(hierarchy, name));
    cgroups.forEach((folder) => fs.mkdirSync(folder));
    const consoleLog = path.join(os.tmpdir(), `${name}.console.log`);
    const consoleFd = fs.openSync(consoleLog, 'w');
    const node = fs.realpathSync(process.execPath);
    const hostNode = options.node !== 'debian' ? [`--bind-ro=${node}:/usr/local/bin/node`, ...hostNpm()] : [];
    // On the host's network, the host's trust too: a host that reaches the registries through a
    // proxy of its own has that proxy's CA in its bundle (and NODE_EXTRA_CA_CERTS naming it).
    const caBundle = '/etc/ssl/certs/ca-certificates.crt';
    const hostTrust = options.hostNetwork && fs.existsSync(caBundle) ? [`--bind-ro=${caBundle}:${caBundle}`] : [];
    const extraCa = process.env.NODE_EXTRA_CA_CERTS;
    const nspawnArgs = [
      '-D',
      rootfs,
      '--boot',
      '--register=no',
      '--keep-unit',
      '--console=pipe',
      '--volatile=overlay',
      ...(options.hostNetwork ? ['--resolv-conf=copy-host'] : ['--private-network']),
      `--machine=${name}`,
      `--hostname=${name}`,
      ...hostNode,
      ...hostTrust,
      `--bind-ro=${PROJECT}:${PROJECT_IN_CONTAINER}`,
      ...(options.npmCache && fs.existsSync('/root/.npm') ? ['--bind=/root/.npm:/root/.npm'] : []),
      ...(options.binds ?? []).map(([host, inside]) => `--bind-ro=${host}:${inside}`),
      ...(options.writableBinds ?? []).map(([host, inside]) => `--bind=${host}:${inside}`),
    ];
    const nspawn = spawn(
      'sh',
      [
        '-c',
        'for procs in $E2E_CGROUP_PROCS; do echo $$ > "$procs" || exit 1; done; exec "$@"',
        'sh',
        'systemd-nspawn',
        ...nspawnArgs,
      ],
      {
        stdio: ['ignore', consoleFd, consoleFd],
        env: { ...process.env, E2E_CGROUP_PROCS: cgroups.map((folder) => path.join(folder, 'cgroup.procs')).join(' ') },
      },
    );
    fs.closeSync(consoleFd);
    const ownNamespace = fs.readlinkSync('/proc/self/ns/pid');
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    let pid1: number | undefined;
    while (pid1 === undefined) {
      if (nspawn.exitCode !== null || Date.now() > deadline) {
        nspawn.kill('SIGKILL');
        throw new Error(`systemd-nspawn did not start the container:\n${fs.readFileSync(consoleLog, 'utf8')}`);
      }
      pid1 = containerInit(nspawn.pid!, ownNamespace);
      if (pid1 === undefined) await sleep(50);
    }
    const commandEnv: Record<string, string> =
      options.hostNetwork && extraCa === caBundle && fs.existsSync(caBundle) ? { NODE_EXTRA_CA_CERTS: caBundle } : {};
    const container = new Container(
      release,
      name,
      commandEnv,
      nspawn,
      pid1,
      fs.readlinkSync(`/proc/${pid1}/ns/pid`),
      cgroups,
      consoleLog,
    );
    running.add(container);
    try {
      await container.waitUntilRunning(deadline);
      // The installed CLI, as `npm install -g` would put it on PATH.
      if (options.linkCli !== false)
        container.run(['ln', '-s', `${PROJECT_IN_CONTAINER}/dist/cli.js`, '/usr/local/bin/restic-systemd']);
      if (hostNode.length > 1)
        container.run(['ln', '-s', '../lib/node_modules/npm/bin/npm-cli.js', '/usr/local/bin/npm']);
    } catch (error) {
      await container.stop().catch(() => undefined);
      throw error;
    }
    return container;
  }

  private async waitUntilRunning(deadline: number): Promise<void> {
    for (;;) {
      const state = this.run(['systemctl', 'is-system-running', '--wait'], { allowFailure: true });
      const answer = state.stdout.trim();
      if (answer === 'running') return;
      if (answer === 'degraded') {
        const failed = this.run(['systemctl', '--failed', '--no-pager'], { allowFailure: true }).stdout;
        throw new Error(`the container booted degraded:\n${failed}\n${this.journal()}`);
      }
      if (Date.now() > deadline)
        throw new Error(
          `the container did not finish booting (state: ` +
            `${answer || state.stderr.trim()})\n${fs.readFileSync(this.consoleLog, 'utf8')}`,
        );
      await sleep(50);
    }
  }

  /** Run a program inside the container (all its namespaces, a clean environment, as root). */
  run(argv: readonly string[], options: RunOptions = {}): ExecResult {
    const env = Object.entries({
      PATH: CONTAINER_PATH,
      LANG: 'C.UTF-8',
      HOME: '/root',
      ...this.commandEnv,
      ...options.env,
    }).map(([key, value]) => `${key}=${value}`);
    const result = spawnSync('nsenter', ['-t', String(this.pid1), '-a', 'env', '-i', ...env, ...argv], {
      encoding: 'utf8',
      input: options.input,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.error) throw result.error;
    const outcome = { exitCode: result.status ?? 128, stdout: result.stdout, stderr: result.stderr };
    if (outcome.exitCode !== 0 && !options.allowFailure) {
      throw new Error(
        `in the container, ${argv.join(' ')} exited ${outcome.exitCode}:\n${outcome.stdout}${outcome.stderr}`,
      );
    }
    return outcome;
  }

  /** psql as postgres on the local socket: the rows of `sql`, unaligned, trimmed. */
  psql(port: number, sql: string, options: { database?: string; allowFailure?: boolean } = {}): string {
    const argv = ['runuser', '-u', 'postgres', '--', 'psql', '-X', '-At', '-h', '/run/postgresql', '-p', String(port)];
    const database = options.database ? ['-d', options.database] : [];
    return this.run([...argv, ...database, '-c', sql], { allowFailure: options.allowFailure }).stdout.trim();
  }

  /** Run a shell script inside the container. */
  sh(script: string, options: RunOptions = {}): ExecResult {
    return this.run(['sh', '-euc', script], options);
  }

  /** Write a file inside the container (its folder made if missing), created with its mode before any content. */
  writeFile(file: string, content: string, mode = 0o644): void {
    this.run(
      [
        'sh',
        '-euc',
        'umask 077; mkdir -p "$(dirname "$1")"; cat > "$1"; chmod "$2" "$1"',
        'sh',
        file,
        mode.toString(8),
      ],
      { input: content },
    );
  }

  /** A profile /etc/restic/<name>.conf (0600) with these lines, and its password file. */
  writeProfile(name: string, lines: readonly string[], password: string): void {
    this.writeFile(`/etc/restic/${name}.password`, `${password}\n`, 0o600);
    this.writeFile(
      `/etc/restic/${name}.conf`,
      [`RESTIC_PASSWORD_FILE=/etc/restic/${name}.password`, ...lines, ''].join('\n'),
      0o600,
    );
  }

  readFile(file: string): string {
    return this.run(['cat', file]).stdout;
  }

  /** One property of a unit, as `systemctl show -P` prints it. */
  unitProperty(unit: string, property: string): string {
    return this.run(['systemctl', 'show', '-P', property, unit]).stdout.trim();
  }

  /** The container's journal: the whole system's last lines, or one unit's. */
  journal(options: { unit?: string; lines?: number } = {}): string {
    const args = ['journalctl', '--no-pager', '-o', 'short-monotonic', '-n', String(options.lines ?? 150)];
    if (options.unit) args.push('-u', options.unit);
    const result = this.run(args, { allowFailure: true });
    return (
      `---- container journal${options.unit ? ` of ${options.unit}` : ''} (last ${options.lines ?? 150} lines) ` +
      `----\n${result.stdout}${result.stderr}`
    );
  }

  /** Run a test's steps; when one fails, its error carries the container's journal. */
  async scenario(steps: () => Promise<void> | void): Promise<void> {
    try {
      await steps();
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      failure.message = `${failure.message}\n\n${this.journal()}`;
      throw failure;
    }
  }

  /** Power the container off, and prove that nothing of it is left on the host. */
  async stop(): Promise<void> {
    running.delete(this);
    if (this.nspawn.exitCode === null && this.nspawn.signalCode === null) {
      const exited = new Promise((resolve) => this.nspawn.once('exit', resolve));
      this.nspawn.kill('SIGTERM'); // nspawn turns it into a clean poweroff of the container
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), 20_000)));
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        // Killing the container's PID 1 ends its whole PID namespace; nspawn then exits.
        process.kill(this.pid1, 'SIGKILL');
        await exited;
      }
      clearTimeout(timer);
    }
    // nspawn cannot remove this folder on a /run that is not a tmpfs.
    fs.rmSync(`/run/systemd/nspawn/propagate/${this.name}`, { recursive: true, force: true });
    const leftovers: string[] = [];
    const processes = this.processesInNamespace();
    if (processes.length > 0) leftovers.push(`processes ${processes.join(' ')}`);
    for (const folder of this.cgroups) {
      removeCgroupTree(folder);
      if (fs.existsSync(folder)) leftovers.push(`cgroup ${folder}`);
    }
    const mounts = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((line) => line.includes(this.name));
    if (mounts.length > 0) leftovers.push(`mounts:\n${mounts.join('\n')}`);
    fs.rmSync(this.consoleLog, { force: true });
    if (leftovers.length > 0) throw new Error(`the container ${this.name} left behind: ${leftovers.join('; ')}`);
  }

  /** Last resort when the test process exits: no clean poweroff, but nothing keeps running. */
  kill(): void {
    try {
      process.kill(this.pid1, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  private processesInNamespace(): number[] {
    const found: number[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (fs.readlinkSync(`/proc/${entry}/ns/pid`) === this.pidNamespace) found.push(Number(entry));
      } catch {
        // the process ended while the list was read
      }
    }
    return found;
  }
}

/** This host's npm (it comes with its Node.js), bound where a Node.js of /usr/local keeps it. */
function hostNpm(): string[] {
  const npm = path.join(path.dirname(path.dirname(fs.realpathSync(process.execPath))), 'lib/node_modules/npm');
  return fs.existsSync(npm) ? [`--bind-ro=${npm}:/usr/local/lib/node_modules/npm`] : [];
}

/** The container's PID 1 on this host: the child of nspawn in another PID namespace running systemd. */
function containerInit(nspawnPid: number, ownNamespace: string): number | undefined {
  let children: string[];
  try {
    children = fs
      .readdirSync(`/proc/${nspawnPid}/task`)
      .flatMap((task) => fs.readFileSync(`/proc/${nspawnPid}/task/${task}/children`, 'utf8').trim().split(/\s+/));
  } catch {
    return undefined;
  }
  for (const child of children.filter(Boolean)) {
    try {
      // The first child seen can be a short-lived helper of nspawn: only systemd itself counts.
      if (
        fs.readlinkSync(`/proc/${child}/ns/pid`) !== ownNamespace &&
        fs.readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'systemd'
      )
        return Number(child);
    } catch {
      // gone already
    }
  }
  return undefined;
}

function removeCgroupTree(folder: string): void {
  if (!fs.existsSync(folder)) return;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(path.join(folder, entry.name));
  }
  try {
    fs.rmdirSync(folder);
  } catch {
    // still has processes: reported by the caller
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll until check() returns a value other than undefined; throws with what was last seen after the timeout. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}
