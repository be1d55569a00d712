/**
 * Profile checks that only a systemd program can make: calendar expressions are parsed by
 * `systemd-analyze calendar`, the same parser the timer will use.
 */
import type { ProfileIssue } from '../errors.js';
import type { Runner } from '../exec/runner.js';
import { checkCalendar } from './systemd-analyze.js';
import { FIELD_KEYS, FIELDS } from '../profile/fields.js';
import type { Profile } from '../profile/model.js';

const CALENDAR_KEYS = FIELD_KEYS.filter((key) => (FIELDS[key] as { check?: string }).check === 'calendar');

/** Check every calendar value of every profile, each distinct expression once. */
export async function checkSchedules(profiles: readonly Profile[], runner: Runner): Promise<ProfileIssue[]> {
  const verdicts = new Map<string, Promise<string | undefined>>();
  const issues: ProfileIssue[] = [];
  for (const profile of profiles) {
    for (const key of CALENDAR_KEYS) {
      const expression = (profile.values as Record<string, unknown>)[key];
      if (typeof expression !== 'string') continue;
      if (!verdicts.has(expression)) verdicts.set(expression, checkCalendar(runner, expression));
      const problem = await verdicts.get(expression);
      if (problem) {
        issues.push({
          file: profile.file,
          line: profile.lines[key],
          key,
          message:
            `${JSON.stringify(expression)} is not a valid systemd calendar expression (${problem}): write it ` +
            `like "hourly", "daily" or "Mon..Fri *-*-* 02:30" (man systemd.time)`,
        });
      }
    }
  }
  return issues;
}
