/** Argv builders and result interpretation for systemd-analyze. */
import type { Runner } from '../exec/runner.js';

/** Undefined when systemd parses the calendar expression, else systemd's reason. */
export async function checkCalendar(runner: Runner, expression: string): Promise<string | undefined> {
  const result = await runner.run('systemd-analyze', ['calendar', '--iterations=1', '--', expression]);
  if (result.exitCode === 0) return undefined;
  const reason = /: ([^:]+)$/m.exec(result.stderr.trim())?.[1];
  return `systemd-analyze calendar: ${reason ?? result.stderr.trim()}`;
}

/**
 * Run `systemd-analyze verify` on unit files and return its complaints. systemd only warns (exit
 * 0) about unknown keys and bad values, so any output at all counts as a complaint.
 */
export async function verifyUnits(runner: Runner, unitPaths: readonly string[]): Promise<string> {
  const result = await runner.run('systemd-analyze', ['verify', '--man=no', ...unitPaths]);
  return [result.stdout, result.stderr]
    .map((part) => part.trim())
    .filter(Boolean)
    .join('\n');
}

const intervals = new Map<string, Promise<number | undefined>>();

/** Seconds between the next two elapses of a calendar expression (how often a timer fires); asked once per expression.
 * */
export function calendarInterval(runner: Runner, expression: string): Promise<number | undefined> {
  if (!intervals.has(expression)) intervals.set(expression, askCalendarInterval(runner, expression));
  return intervals.get(expression)!;
}

async function askCalendarInterval(runner: Runner, expression: string): Promise<number | undefined> {
  const result = await runner.run('systemd-analyze', ['calendar', '--iterations=2', '--', expression], {
    env: { TZ: 'UTC' },
  });
  const times = [...result.stdout.matchAll(/(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC/g)].map((match) =>
    Date.parse(`${match[1]}T${match[2]}Z`),
  );
  return result.exitCode === 0 && times.length >= 2 ? (times[1]! - times[0]!) / 1000 : undefined;
}
