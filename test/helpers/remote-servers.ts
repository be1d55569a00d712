/**
 * Real repository servers on loopback for the integration tier, each on a port the kernel picks:
 * a REST server (`rclone serve restic`), optionally over TLS with a certificate of its own and an
 * htpasswd file. (SFTP is tested end to end against a real sshd in the container: rclone's own
 * SFTP server ends sessions in a way restic 0.14 reports as a failed ssh.)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

async function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net
      .connect(port, '127.0.0.1', () => resolve(socket.end() !== undefined))
      .on('error', () => resolve(false));
  });
}

export interface LoopbackServer {
  port: number;
  /** Stop it (SIGTERM) and wait until it is gone. */
  stop(): Promise<void>;
  /** Start it again on the same port. */
  start(): Promise<void>;
}

/** Run `rclone serve <args>` on a free loopback port until stopped; the test stops it in afterEach. */
async function rcloneServer(argsFor: (address: string) => string[]): Promise<LoopbackServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: LoopbackServer = {
    port,
    async start() {
      child = spawn('rclone', ['serve', ...argsFor(`127.0.0.1:${port}`)], { stdio: 'ignore' });
      for (let tries = 0; tries < 100; tries++) {
        if (await listening(port)) return;
        await sleep(100);
      }
      throw new Error(`rclone serve ${argsFor('')[0]} did not start on 127.0.0.1:${port}`);
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
  await server.start();
  running.add(server);
  return server;
}

const running = new Set<LoopbackServer>();

/** Stop every server a test started (afterEach). */
export async function stopServers(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
  running.clear();
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A self-signed certificate for 127.0.0.1 (its own CA) in folder: cert.pem, key.pem. */
export function selfSignedCertificate(folder: string, name = 'server'): { cert: string; key: string } {
  const cert = path.join(folder, `${name}.cert.pem`);
  const key = path.join(folder, `${name}.key.pem`);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert, key };
}

export interface RestServerOptions {
  folder: string;
  tls?: { cert: string; key: string };
  /** user → password, written as an htpasswd file next to the folder. */
  users?: Record<string, string>;
}

/** rclone serve restic on loopback: plain HTTP, or TLS and passwords when asked. */
export async function restServer(options: RestServerOptions): Promise<LoopbackServer> {
  fs.mkdirSync(options.folder, { recursive: true });
  const extra: string[] = [];
  if (options.tls) extra.push('--cert', options.tls.cert, '--key', options.tls.key);
  if (options.users) {
    const htpasswd = `${options.folder}.htpasswd`;
    const lines = Object.entries(options.users).map(
      ([user, password]) =>
        `${user}:${execFileSync('openssl', ['passwd', '-apr1', password], { encoding: 'utf8' }).trim()}\n`,
    );
    fs.writeFileSync(htpasswd, lines.join(''), { mode: 0o600 });
    extra.push('--htpasswd', htpasswd);
  }
  return rcloneServer((address) => ['restic', '--addr', address, ...extra, options.folder]);
}
