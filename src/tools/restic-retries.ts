/**
 * restic retries every request to a backend it cannot reach: 0.17 and newer for up to 15 minutes,
 * with no setting to shorten that; 0.14 about ten times, a minute or more when several uploads
 * retry. restic says so on stderr: "<request> returned error, retrying after <delay>: <error>",
 * and from 0.17 on "<request> operation successful after N retries" once it worked. The watchdog
 * reads those lines and gives up, through `onExpire`, when one request has been failing for
 * longer than the profile's bound (BACKUP_NETWORK_TIMEOUT), and at once when the error is one no
 * retry can cure (an untrusted certificate, refused credentials: `hopeless`). A request that was not
 * retried again well after its announced delay is taken as recovered (0.14 never says so).
 */

const RETRYING = /^(.+?) returned error, retrying after ([0-9.hmsµun]+): (.*)$/;
const RECOVERED = /^(.+?) operation successful after \d+ retries$/;
// Longer than any request of a working backend takes to answer after its retry.
const RECOVERY_GRACE_MS = 60_000;

/** Milliseconds of a Go duration such as "552.3ms", "1.05s" or "1m2.5s". */
export function goDurationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let total = 0;
  for (const match of text.matchAll(/([0-9.]+)(h|ms|m|s|µs|us|ns)/g)) total += Number(match[1]) * units[match[2]!]!;
  return total;
}

export interface RetryExpiry {
  request: string;
  seconds: number;
  lastError: string;
  /** Stopped at the first retry: the error cannot go away by waiting. */
  hopeless: boolean;
}

interface Failing {
  since: number;
  /** When restic said it would try again. */
  nextTry: number;
}

export class RetryWatchdog {
  private readonly failing = new Map<string, Failing>();
  private lastError = '';
  private timer?: NodeJS.Timeout;
  expired?: RetryExpiry;

  constructor(
    private readonly boundMs: number,
    private readonly onExpire: (expiry: RetryExpiry) => void,
    private readonly now: () => number = Date.now,
    private readonly hopeless: (error: string) => boolean = () => false,
  ) {}

  /** Feed every line restic writes to stderr. */
  readonly onStderrLine = (raw: string): void => {
    const line = raw.trim();
    const retrying = RETRYING.exec(line);
    if (retrying) {
      const request = retrying[1]!;
      const now = this.now();
      this.failing.set(request, {
        since: this.failing.get(request)?.since ?? now,
        nextTry: now + goDurationMs(retrying[2]!),
      });
      this.lastError = retrying[3]!;
      if (this.hopeless(this.lastError)) this.expire(request, 0, true);
      else this.check();
      return;
    }
    const recovered = RECOVERED.exec(line);
    if (recovered) this.failing.delete(recovered[1]!);
  };

  /** Check once a second until stop(): a request can keep failing quietly between two retry lines. */
  start(): this {
    this.timer = setInterval(() => this.check(), 1000);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    if (this.expired) return;
    const now = this.now();
    for (const [request, failing] of this.failing) {
      if (now > failing.nextTry + RECOVERY_GRACE_MS) {
        this.failing.delete(request);
        continue;
      }
      if (now - failing.since > this.boundMs) {
        this.expire(request, Math.round((now - failing.since) / 1000), false);
        return;
      }
    }
  }

  private expire(request: string, seconds: number, hopeless: boolean): void {
    if (this.expired) return;
    this.expired = { request, seconds, lastError: this.lastError, hopeless };
    this.stop();
    this.onExpire(this.expired);
  }
}
