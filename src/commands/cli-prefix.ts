/** How the commands a command prints should start: with the global options it was given, so they work as printed. */
import type { Context } from '../context.js';
import { shellWord } from '../formats/systemd-escape.js';
import { DEFAULT_CONFIG_DIR } from '../paths.js';

/** `restic-systemd` with the global options this command was given, for the commands it prints. */
export function cliPrefix(context: Context): string {
  const words = ['restic-systemd'];
  if (context.paths.offline) words.push('--root', context.paths.root);
  if (context.paths.configDir !== DEFAULT_CONFIG_DIR) words.push('--config-dir', context.paths.configDir);
  return words.map(shellWord).join(' ');
}
