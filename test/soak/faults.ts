/**
 * The soak's faults, drawn from a seeded random schedule and logged with their time: a job's main
 * process or its restic / pg_dump / pg_dumpall / pg_restore child killed with SIGKILL, the REST
 * server stopped for 1–2 minutes, sshd restarted, the local repository's file system full for 2
 * minutes, the standby restarted, `install` run again while jobs run, and once a switchover of the
 * database cluster, switched back 2 minutes later. Each fault has a start and,
 * for those that last, an end the driver applies later.
 */
import { PROJECT_IN_CONTAINER, type Container } from '../e2e/harness/container.js';
import { startRestServer, type SoakProfile } from './world.js';

export type FaultKind =
  | 'kill-job'
  | 'kill-child'
  | 'rest-down'
  | 'sshd-restart'
  | 'disk-full'
  | 'standby-restart'
  | 'reinstall'
  | 'switchover';

/** The kinds drawn at random; the switchover comes once, at a seeded time (see soak.ts). */
export const FAULT_KINDS: readonly Exclude<FaultKind, 'switchover'>[] = [
  'kill-job',
  'kill-child',
  'rest-down',
  'sshd-restart',
  'disk-full',
  'standby-restart',
  'reinstall',
];

export interface FaultEvent {
  kind: FaultKind;
  /** Seconds since the soak started. */
  at: number;
  /** When the fault was undone (the server back, the space freed), for those that last. */
  endedAt?: number;
  /** What it hit: a unit, a process, a server. Empty when it found nothing to hit (no job was running). */
  target: string;
}

/** mulberry32: a small seeded generator, so that a soak's schedule can be run again. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The running jobs' units of the soak's profiles. */
function runningUnits(container: Container): string[] {
  const listed = container.run(
    [
      'systemctl',
      'list-units',
      '--no-legend',
      '--plain',
      '--state=activating',
      'restic@*',
      'restic-maintenance@*',
      'pg-*@*',
    ],
    { allowFailure: true },
  ).stdout;
  return listed
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((unit) => unit.endsWith('.service'));
}

/** Apply one fault now; returns its event and, for a lasting fault, how to end it and when (seconds). */
export function startFault(
  container: Container,
  kind: FaultKind,
  random: () => number,
  profiles: readonly SoakProfile[],
): { target: string; end?: { afterSeconds: number; undo: () => void } } {
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
  switch (kind) {
    case 'kill-job': {
      const unit = pick(runningUnits(container));
      if (!unit) return { target: '' };
      container.run(['systemctl', 'kill', '--kill-whom=main', '--signal=KILL', unit], { allowFailure: true });
      return { target: unit };
    }
    case 'kill-child': {
      const program = pick(['restic', 'pg_dump', 'pg_dumpall', 'pg_restore'])!;
      const pids = container.run(['pgrep', '-x', program], { allowFailure: true }).stdout.split('\n').filter(Boolean);
      const pid = pick(pids);
      if (!pid) return { target: '' };
      container.run(['kill', '-KILL', pid], { allowFailure: true });
      return { target: `${program} (pid ${pid})` };
    }
    case 'rest-down': {
      container.run(['systemctl', 'stop', 'rest-server'], { allowFailure: true });
      return {
        target: 'rest-server',
        end: { afterSeconds: 60 + Math.floor(random() * 60), undo: () => startRestServer(container) },
      };
    }
    case 'sshd-restart':
      container.run(['systemctl', 'restart', 'ssh.service']);
      return { target: 'ssh.service' };
    case 'disk-full': {
      // Every free block of the local repository's file system, for 2 minutes.
      container.sh(
        'fallocate -l "$(($(stat -f -c %a*%S /srv/repos/local) - 4096))" /srv/repos/local/soak-filler || true',
      );
      return {
        target: '/srv/repos/local',
        end: { afterSeconds: 120, undo: () => container.run(['rm', '-f', '/srv/repos/local/soak-filler']) },
      };
    }
    case 'standby-restart':
      container.run(['systemctl', 'restart', 'e2e-postgres@standby.service']);
      return { target: 'e2e-postgres@standby.service' };
    case 'switchover': {
      // The standby (5433) the database profiles dump becomes the primary: their runs must fail closed, not
      // dump a primary, until it is switched back.
      const switchover = (from: string, to: string) =>
        container.run(['sh', `${PROJECT_IN_CONTAINER}/test/soak/switchover.sh`, from, to]);
      switchover('primary', 'standby');
      return {
        target: 'e2e-postgres@standby promoted, e2e-postgres@primary its standby',
        end: { afterSeconds: 120, undo: () => switchover('standby', 'primary') },
      };
    }
    case 'reinstall': {
      const profile = pick(profiles)!;
      container.run(['restic-systemd', 'install', profile.name], { allowFailure: true });
      return { target: `install ${profile.name}` };
    }
  }
}
