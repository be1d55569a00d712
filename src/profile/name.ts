import { UsageError } from '../errors.js';

/** Letters, digits, "_", "." and "-", at most 64, not starting with "." or "-", no "..". */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Throw a UsageError unless name can safely become a file name and a systemd instance name. */
export function assertProfileName(name: string): void {
  if (!NAME.test(name) || name.includes('..')) {
    throw new UsageError(
      `profile name ${JSON.stringify(name)} is not allowed: use 1 to 64 letters, digits, "_", "." or "-", ` +
        'not starting with "." or "-" and without ".." (no "/", "@" or spaces)',
    );
  }
}
