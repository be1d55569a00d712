/**
 * Live progress of a running backup, from restic's JSON status lines: a line on the terminal
 * when there is one, and systemd's STATUS= (systemctl status restic@<name>) under systemd.
 */
import type { Context } from '../context.js';
import { formatBytes } from './format.js';

const INTERVAL_MS = 1000;

function duration(seconds: number): string {
  if (seconds >= 3600)
    return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.round(seconds)}s`;
}

/** A line handler that reports progress at most once a second; call `done()` at the end. */
export function progressReporter(
  context: Context,
  label: string,
): { onLine: (line: string) => void; done: () => void } {
  const toSystemd = Boolean(process.env.NOTIFY_SOCKET);
  const toTerminal = process.stderr.isTTY === true;
  let last = 0;
  let notifying = false;
  let shown = false;
  const onLine = (line: string) => {
    if ((!toSystemd && !toTerminal) || !line.includes('"message_type":"status"') || Date.now() - last < INTERVAL_MS)
      return;
    let status: { percent_done?: number; bytes_done?: number; total_bytes?: number; seconds_remaining?: number };
    try {
      status = JSON.parse(line);
    } catch {
      return;
    }
    last = Date.now();
    const percent = Math.floor((status.percent_done ?? 0) * 100);
    const eta = status.seconds_remaining ? `, ETA ${duration(status.seconds_remaining)}` : '';
    const text =
      `${label}: ${percent}% (${formatBytes(status.bytes_done ?? 0)} of ` +
      `${formatBytes(status.total_bytes ?? 0)})${eta}`;
    if (toTerminal) {
      process.stderr.write(`\r${text}\x1b[K`);
      shown = true;
    }
    if (toSystemd && !notifying) {
      notifying = true;
      // Progress is a courtesy: a missing or failing systemd-notify must never disturb the backup.
      context.runner
        .run('systemd-notify', [`--status=${text}`], { env: { NOTIFY_SOCKET: process.env.NOTIFY_SOCKET! } })
        .catch((error: Error) => context.log.debug(`systemd-notify: ${error.message}`))
        .finally(() => (notifying = false));
    }
  };
  return { onLine, done: () => shown && process.stderr.write('\n') };
}
