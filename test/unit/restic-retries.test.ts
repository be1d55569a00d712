import { RetryWatchdog, goDurationMs, type RetryExpiry } from '../../src/tools/restic-retries.js';

/** A watchdog on a clock the test moves, with a bound of 5 s; `hopeless` errors mention "x509". */
function watchdog() {
  let now = 1_000_000;
  const expiries: RetryExpiry[] = [];
  const dog = new RetryWatchdog(
    5000,
    (expiry) => expiries.push(expiry),
    () => now,
    (error) => error.includes('x509'),
  );
  return { dog, expiries, advance: (ms: number) => (now += ms) };
}

test('Go durations as restic prints them', () => {
  expect([goDurationMs('552.3ms'), goDurationMs('1.05s'), goDurationMs('1m2.5s')]).toEqual([552.3, 1050, 62500]);
  expect(goDurationMs('13µs')).toBeCloseTo(0.013);
});

test('a request failing for longer than the bound expires once, naming the request and the last error', () => {
  const { dog, expiries, advance } = watchdog();
  dog.onStderrLine(
    'Load(<config/0000000000>, 0, 0) returned error, retrying after 720.9ms: dial tcp 127.0.0.1:8000: ' +
      'connect: connection refused',
  );
  advance(3000);
  dog.onStderrLine(
    'Load(<config/0000000000>, 0, 0) returned error, retrying after 1.5s: dial tcp 127.0.0.1:8000: connect: ' +
      'connection refused',
  );
  expect(expiries).toEqual([]);
  advance(2500);
  dog.onStderrLine(
    'Load(<config/0000000000>, 0, 0) returned error, retrying after 3s: dial tcp 127.0.0.1:8000: connect: ' +
      'connection refused',
  );
  dog.onStderrLine(
    'Load(<config/0000000000>, 0, 0) returned error, retrying after 3s: dial tcp 127.0.0.1:8000: connect: ' +
      'connection refused',
  );
  expect(expiries).toEqual([
    {
      request: 'Load(<config/0000000000>, 0, 0)',
      seconds: 6,
      lastError: 'dial tcp 127.0.0.1:8000: connect: connection refused',
      hopeless: false,
    },
  ]);
});

test('a request restic says recovered, or that was not retried long after its delay, does not expire', () => {
  const { dog, expiries, advance } = watchdog();
  dog.onStderrLine('Save(<data/1234>) returned error, retrying after 1s: connection reset by peer');
  advance(2000);
  dog.onStderrLine('Save(<data/1234>) operation successful after 1 retries');
  advance(10_000);
  dog.onStderrLine('List(lock) returned error, retrying after 1s: connection reset by peer');
  advance(70_000);
  dog.onStderrLine('Save(<data/5678>) returned error, retrying after 1s: connection reset by peer');
  expect(expiries).toEqual([]);
});

test('an error waiting cannot cure (an untrusted certificate) expires at the first retry', () => {
  const { dog, expiries } = watchdog();
  dog.onStderrLine(
    'Load(<config/0000000000>, 0, 0) returned error, retrying after 577.6ms: Head ' +
      '"https://127.0.0.1:8443/config": tls: failed to verify certificate: x509: certificate signed by unknown ' +
      'authority',
  );
  expect(expiries).toHaveLength(1);
  expect(expiries[0]).toMatchObject({ seconds: 0, hopeless: true });
  dog.onStderrLine(
    'Load(<config/0000000000>, 0, 0) returned error, retrying after 1s: x509: certificate signed by unknown authority',
  );
  expect(expiries).toHaveLength(1);
});
