/**
 * The logger. Everything it prints goes to stderr (stdout is kept for results and --json) and
 * passes through the secret mask first, so a value registered as secret never reaches a log line.
 */

const secrets = new Set<string>();

/** Register a value that must never be printed (a password, a key, credentials in a URL). */
export function addSecret(value: string): void {
  // Very short values would mask innocent text everywhere; they are still never logged on purpose.
  if (value.length >= 4) secrets.add(value);
}

/** Replace every registered secret in text with ***. */
export function maskSecrets(text: string): string {
  let masked = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    masked = masked.split(secret).join('***');
  }
  return masked;
}

let resultPrinted = false;

/** Note that a command printed its result (stdout): a failure after it then prints no JSON error of its own. */
export function notePrinted(): void {
  resultPrinted = true;
}

export function wasPrinted(): boolean {
  return resultPrinted;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const emit = (at: LogLevel, prefix: string) => (message: string) => {
    if (ORDER[at] >= ORDER[level]) write(`${prefix}${maskSecrets(message)}\n`);
  };
  return {
    debug: emit('debug', 'debug: '),
    info: emit('info', ''),
    warn: emit('warn', 'warning: '),
    error: emit('error', 'error: '),
  };
}

/** A logger that keeps its lines, for tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, ...createLogger('debug', (line) => lines.push(line.trimEnd())) };
}
