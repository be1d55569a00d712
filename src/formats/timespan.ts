/** systemd.time(7) time spans ("5min", "1h 30min", "90" = seconds), as the profile writes them. */

const UNIT_SECONDS: Record<string, number> = {
  usec: 1e-6,
  us: 1e-6,
  µs: 1e-6,
  msec: 1e-3,
  ms: 1e-3,
  seconds: 1,
  second: 1,
  sec: 1,
  s: 1,
  '': 1,
  minutes: 60,
  minute: 60,
  min: 60,
  m: 60,
  hours: 3600,
  hour: 3600,
  hr: 3600,
  h: 3600,
  days: 86400,
  day: 86400,
  d: 86400,
  weeks: 604800,
  week: 604800,
  w: 604800,
  months: 2629800,
  month: 2629800,
  M: 2629800,
  years: 31557600,
  year: 31557600,
  y: 31557600,
};

const PART = /(\d+(?:\.\d+)?)\s*([a-zA-Zµ]*)\s*/y;

/** Seconds in a time span, or undefined when it is not one. */
export function timespanSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const match = PART.exec(trimmed);
    const unit = match ? UNIT_SECONDS[match[2]!] : undefined;
    if (!match || unit === undefined) return undefined;
    total += Number(match[1]) * unit;
  }
  return total;
}
