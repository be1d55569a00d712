/**
 * A monotonic timer (OnUnitActiveSec=1d, with or without OnBootSec=) as the calendar expression of
 * the same period, when one exists: every 15 minutes, every 6 hours, daily, weekly. Runs then
 * happen at fixed times instead of a period after the last one; a period that divides no day
 * evenly has no such expression.
 */
import { timespanSeconds } from '../formats/timespan.js';

const PERIODIC = /^(OnUnitActiveSec|OnUnitInactiveSec)=/;
const OFFSETS = /^(OnBootSec|OnStartupSec|OnActiveSec)=/;

export function monotonicToCalendar(settings: readonly string[]): string | undefined {
  const periodic = settings.filter((setting) => PERIODIC.test(setting));
  if (periodic.length !== 1 || !settings.every((setting) => PERIODIC.test(setting) || OFFSETS.test(setting)))
    return undefined;
  const seconds = timespanSeconds(periodic[0]!.replace(PERIODIC, ''));
  if (seconds === undefined || !Number.isInteger(seconds) || seconds <= 0) return undefined;
  if (seconds === 7 * 86400) return 'Mon *-*-* 00:00:00';
  if (seconds === 86400) return '*-*-* 00:00:00';
  const hours = seconds / 3600;
  if (Number.isInteger(hours) && 24 % hours === 0) return hours === 1 ? '*-*-* *:00:00' : `*-*-* 00/${hours}:00:00`;
  const minutes = seconds / 60;
  if (Number.isInteger(minutes) && 60 % minutes === 0)
    return minutes === 1 ? '*-*-* *:*:00' : `*-*-* *:00/${minutes}:00`;
  return undefined;
}
