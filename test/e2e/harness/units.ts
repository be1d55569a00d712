/** Starting units in the container and reading back how they ended. */
import { waitFor, type Container } from './container.js';

export interface UnitRun {
  result: string;
  exitStatus: string;
}

/**
 * `systemctl start` (for a oneshot it returns when the job has ended), then Result= and
 * ExecMainStatus=. The start rate limit is reset first: a test starts a unit more often than a timer.
 */
export function startUnit(container: Container, unit: string): UnitRun {
  container.run(['systemctl', 'reset-failed', unit], { allowFailure: true });
  container.run(['systemctl', 'start', unit], { allowFailure: true });
  return lastRun(container, unit);
}

export function lastRun(container: Container, unit: string): UnitRun {
  return { result: container.unitProperty(unit, 'Result'), exitStatus: container.unitProperty(unit, 'ExecMainStatus') };
}

/** Throws, with the unit's journal, unless its last run succeeded. */
export function expectSucceeded(container: Container, unit: string, run: UnitRun = lastRun(container, unit)): void {
  if (run.result !== 'success' || run.exitStatus !== '0') {
    throw new Error(
      `${unit} did not succeed: Result=${run.result} ` +
        `ExecMainStatus=${run.exitStatus}\n${container.journal({ unit, lines: 60 })}`,
    );
  }
}

/** A unit's state once it is neither starting nor stopping. */
export function settledState(container: Container, unit: string): string | undefined {
  const state = container.unitProperty(unit, 'ActiveState');
  return state === 'activating' || state === 'deactivating' ? undefined : state;
}

/**
 * The unit's journal once it shows every pattern: journald writes a unit's lines a moment after they
 * were printed, later still on a loaded machine. Throws with the journal after 30 s.
 */
export async function journalShowing(
  container: Container,
  unit: string,
  patterns: ReadonlyArray<string | RegExp>,
  lines = 150,
): Promise<string> {
  const shows = (text: string) =>
    patterns.every((pattern) => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)));
  let journal = '';
  try {
    return await waitFor(`the journal of ${unit} to show ${patterns.join(' and ')}`, () => {
      journal = container.journal({ unit, lines });
      return shows(journal) ? journal : undefined;
    });
  } catch (error) {
    (error as Error).message += `\n${journal}`;
    throw error;
  }
}
