/** Monitoring pings against a local HTTP server, NOTIFY_COMMAND, and live progress to a notify socket. */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { runCli, runCliAsync } from '../helpers/cli.js';
import { resticSetup } from '../helpers/restic.js';
import { removeTempRoots, tempRoot } from '../helpers/temp-root.js';

afterAll(removeTempRoots);

async function pingServer(): Promise<{
  url: string;
  requests: Array<{ path: string; body: string }>;
  close: () => void;
}> {
  const requests: Array<{ path: string; body: string }> = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      requests.push({ path: request.url ?? '', body });
      response.end('OK');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/ping/abc`, requests, close: () => server.close() };
}

test(
  'a successful backup pings /start then the check; a failed one pings /start then /fail with ' + 'the message',
  async () => {
    const server = await pingServer();
    try {
      const setup = resticSetup(tempRoot(), { extra: `BACKUP_PING_URL=${server.url}\n` });
      expect(setup.cli('init', 'myconf').exitCode).toBe(0);
      const ok = await runCliAsync(['--root', setup.root, 'run', 'backup', 'myconf']);
      expect(ok.exitCode).toBe(0);
      expect(server.requests.map((request) => request.path)).toEqual(['/ping/abc/start', '/ping/abc']);
      fs.writeFileSync(path.join(setup.root, 'etc/restic/myconf.password'), 'wrong\n');
      const failed = await runCliAsync(['--root', setup.root, 'run', 'backup', 'myconf']);
      expect(failed.exitCode).toBe(12);
      expect(server.requests.slice(2).map((request) => request.path)).toEqual(['/ping/abc/start', '/ping/abc/fail']);
      expect(server.requests[3]!.body).toContain('wrong password');
    } finally {
      server.close();
    }
  },
);

test('a monitoring server that is down never fails the backup', async () => {
  const server = await pingServer();
  server.close();
  const setup = resticSetup(tempRoot(), { extra: `BACKUP_PING_URL=${server.url}\n` });
  expect(setup.cli('init', 'myconf').exitCode).toBe(0);
  const result = await runCliAsync(['--root', setup.root, 'run', 'backup', 'myconf']);
  expect(result.exitCode).toBe(0);
  expect(result.stderr).toContain('the monitoring ping /start failed');
  expect(result.stderr).toContain("the job's result is not affected");
});

test('notify runs NOTIFY_COMMAND with the failed unit, profile, job, result and message', () => {
  const root = tempRoot();
  const script = path.join(root, 'notify.sh');
  const out = path.join(root, 'notified.env');
  fs.writeFileSync(script, `#!/bin/sh\nenv | grep '^RESTIC_SYSTEMD_' | sort > '${out}'\n`, { mode: 0o755 });
  const setup = resticSetup(root, { extra: `NOTIFY_COMMAND=${script}\n` });
  expect(setup.cli('run', 'backup', 'myconf').exitCode).toBe(10);
  const result = setup.cli('notify', 'restic@myconf.service');
  expect(result.exitCode).toBe(0);
  // Newcomer row 24: it says what it did, with the last run's result.
  expect(result.stdout).toMatch(
    /^notified: \S*notify\.sh exited 0 \(the last run of restic@myconf\.service: failure \(exit 10\)\)/,
  );
  const env = fs.readFileSync(out, 'utf8');
  expect(env).toContain('RESTIC_SYSTEMD_UNIT=restic@myconf.service\n');
  expect(env).toContain('RESTIC_SYSTEMD_PROFILE=myconf\n');
  expect(env).toContain('RESTIC_SYSTEMD_JOB=backup\n');
  expect(env).toContain('RESTIC_SYSTEMD_RESULT=failure\n');
  expect(env).toContain('RESTIC_SYSTEMD_EXIT_CODE=10\n');
  expect(env).toMatch(/RESTIC_SYSTEMD_MESSAGE=.*there is no repository at RESTIC_REPOSITORY/);
  expect(setup.cli('notify', 'sshd.service').exitCode).toBe(2);
});

test(
  'under systemd, notify reports the run that failed (MONITOR_INVOCATION_ID), though later runs have written ' +
    'their status since',
  () => {
    const root = tempRoot();
    const script = path.join(root, 'notify.sh');
    const out = path.join(root, 'notified.env');
    fs.writeFileSync(script, `#!/bin/sh\nenv | grep '^RESTIC_SYSTEMD_' | sort > '${out}'\n`, { mode: 0o755 });
    const setup = resticSetup(root, { extra: `NOTIFY_COMMAND=${script}\n` });
    const run = (invocation: string) =>
      runCli(['--root', setup.root, 'run', 'backup', 'myconf'], { INVOCATION_ID: invocation }).exitCode;
    const notify = (invocation: string) => {
      const monitor = {
        MONITOR_INVOCATION_ID: invocation,
        MONITOR_UNIT: 'restic@myconf.service',
        MONITOR_SERVICE_RESULT: 'exit-code',
        MONITOR_EXIT_CODE: 'exited',
        MONITOR_EXIT_STATUS: '10',
      };
      expect(runCli(['--root', setup.root, 'notify', 'restic@myconf.service'], monitor).exitCode).toBe(0);
      return fs.readFileSync(out, 'utf8');
    };
    const [failed, succeeded, failedAgain] = ['a', 'b', 'c'].map((letter) => letter.repeat(32));

    expect(run(failed!)).toBe(10);
    setup.createRepository();
    expect(run(succeeded!)).toBe(0);
    // The notification of the failed run starts after the next run has succeeded.
    let env = notify(failed!);
    expect(env).toContain('RESTIC_SYSTEMD_RESULT=failure\n');
    expect(env).toContain('RESTIC_SYSTEMD_EXIT_CODE=10\n');
    expect(env).toMatch(/RESTIC_SYSTEMD_MESSAGE=.*there is no repository at RESTIC_REPOSITORY/);

    // A later failure has replaced its record: what systemd says of it, and where its lines are.
    fs.writeFileSync(path.join(setup.root, 'etc/restic/myconf.password'), 'wrong\n');
    expect(run(failedAgain!)).toBe(12);
    env = notify(failed!);
    expect(env).toContain('RESTIC_SYSTEMD_RESULT=failure\n');
    expect(env).toContain('RESTIC_SYSTEMD_EXIT_CODE=10\n');
    expect(env).toContain(
      'RESTIC_SYSTEMD_MESSAGE=restic@myconf.service failed (SERVICE_RESULT=exit-code, exit status 10); later runs ' +
        'have written their status since. Its journal: journalctl -u restic@myconf.service ' +
        `_SYSTEMD_INVOCATION_ID=${failed}`,
    );
    expect(notify(failedAgain!)).toMatch(/RESTIC_SYSTEMD_EXIT_CODE=12\n[\s\S]*RESTIC_SYSTEMD_MESSAGE=.*wrong password/);
  },
);

test('under systemd, a running backup reports its progress as STATUS= on the notify socket', async () => {
  const setup = resticSetup(tempRoot());
  expect(setup.cli('init', 'myconf').exitCode).toBe(0);
  spawnSync('dd', ['if=/dev/urandom', `of=${path.join(setup.data, 'big.bin')}`, 'bs=1M', 'count=300'], {
    stdio: 'ignore',
  });
  const socket = path.join(setup.root, 'notify.sock');
  const received = path.join(setup.root, 'notify.log');
  // A datagram socket like systemd's NOTIFY_SOCKET, writing every message it gets to a file.
  const listener = spawn('python3', [
    '-c',
    [
      'import socket,sys',
      's=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)',
      's.bind(sys.argv[1])',
      "f=open(sys.argv[2],'a')",
      'while True:',
      "  f.write(s.recv(4096).decode()+'\\n'); f.flush()",
    ].join('\n'),
    socket,
    received,
  ]);
  try {
    for (let tries = 0; tries < 50 && !fs.existsSync(socket); tries++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const result = await runCliAsync(['--root', setup.root, 'run', 'backup', 'myconf'], { NOTIFY_SOCKET: socket });
    expect(result.exitCode).toBe(0);
    expect(fs.readFileSync(received, 'utf8')).toMatch(/STATUS=backup of myconf: \d+% \([\d.]+ \w+ of 300\.0 MiB\)/);
  } finally {
    listener.kill();
  }
});

test('the rendered services send failures to restic-notify@%n.service, and it verifies', () => {
  const setup = resticSetup(tempRoot());
  expect(setup.cli('install', 'myconf').exitCode).toBe(0);
  const folder = path.join(setup.root, 'etc/systemd/system');
  expect(fs.readFileSync(path.join(folder, 'restic@.service'), 'utf8')).toContain(
    'OnFailure=restic-notify@%n.service\n',
  );
  const verify = spawnSync(
    'systemd-analyze',
    [
      'verify',
      '--man=no',
      path.join(folder, 'restic@myconf.service'),
      path.join(folder, 'restic-notify@restic@myconf.service.service'),
    ],
    { encoding: 'utf8' },
  );
  expect(verify.stderr + verify.stdout).toBe('');
  expect(runCli(['--root', setup.root, 'uninstall', 'myconf', '--purge']).exitCode).toBe(0);
  expect(fs.existsSync(path.join(folder, 'restic-notify@.service'))).toBe(false);
});

test('notify without NOTIFY_COMMAND does not call a run failed that succeeded', () => {
  const setup = resticSetup(tempRoot());
  expect(setup.init().exitCode).toBe(0);
  expect(setup.cli('run', 'backup', 'myconf').exitCode).toBe(0);
  const result = setup.cli('notify', 'restic@myconf.service');
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain('the last run of restic@myconf.service: success (exit 0); NOTIFY_COMMAND is not set');
  expect(result.stdout + result.stderr).not.toMatch(/service failed/);
});
