/**
 * A cron schedule ("10 2 * * *", "@daily") as a systemd calendar expression, for layouts that
 * schedule with cron (CRON_SCHEDULE=…). Returns undefined for what has no exact equivalent
 * (cron runs a job when either the day of month or the weekday matches; systemd needs both).
 */
const MACROS: Record<string, string> = {
  '@hourly': '*-*-* *:00:00',
  '@daily': '*-*-* 00:00:00',
  '@midnight': '*-*-* 00:00:00',
  '@weekly': 'Sun *-*-* 00:00:00',
  '@monthly': '*-*-01 00:00:00',
  '@yearly': '*-01-01 00:00:00',
  '@annually': '*-01-01 00:00:00',
};
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** One cron field (numbers) in systemd's syntax: "*", "1,5", "1..5", "0/15". */
function numericField(field: string, width: number): string | undefined {
  if (field === '*') return '*';
  const parts: string[] = [];
  for (const part of field.split(',')) {
    const step = /^(\*|\d+)\/(\d+)$/.exec(part);
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (step) parts.push(`${step[1] === '*' ? '0' : step[1]!.padStart(width, '0')}/${step[2]}`);
    else if (range) parts.push(`${range[1]!.padStart(width, '0')}..${range[2]!.padStart(width, '0')}`);
    else if (/^\d+$/.test(part)) parts.push(part.padStart(width, '0'));
    else return undefined;
  }
  return parts.join(',');
}

function weekdayField(field: string): string | undefined {
  if (field === '*') return '';
  const day = (text: string) => (/^\d$/.test(text) ? WEEKDAYS[Number(text)] : undefined);
  const parts: string[] = [];
  for (const part of field.split(',')) {
    const range = /^(\d)-(\d)$/.exec(part);
    if (range && day(range[1]!) && day(range[2]!)) parts.push(`${day(range[1]!)}..${day(range[2]!)}`);
    else if (day(part)) parts.push(day(part)!);
    else return undefined;
  }
  return `${parts.join(',')} `;
}

export function cronToCalendar(cron: string): string | undefined {
  const trimmed = cron.trim();
  if (MACROS[trimmed]) return MACROS[trimmed];
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) return undefined;
  const [minute, hour, day, month, weekday] = fields as [string, string, string, string, string];
  // cron's "either the day or the weekday" has no systemd equivalent.
  if (day !== '*' && weekday !== '*') return undefined;
  const m = numericField(minute, 2);
  const h = numericField(hour, 2);
  const d = numericField(day, 2);
  const mo = numericField(month, 2);
  const w = weekdayField(weekday);
  if ([m, h, d, mo, w].some((part) => part === undefined)) return undefined;
  return `${w}*-${mo}-${d} ${h}:${m}:00`;
}
