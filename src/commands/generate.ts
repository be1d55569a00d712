/**
 * `generate <normal-dir> [<early-dir> <late-dir>]`: what restic-systemd's systemd generator runs at
 * every daemon-reload (man systemd.generator). For every valid profile in the config folder it
 * writes the drop-ins `install` would write, into the generator's folder (/run/systemd/generator),
 * so that the guide's `systemctl enable --now restic@<name>.timer` works for a profile that was
 * never installed: its schedule, and a sandbox that lets it write its local repository. The drop-ins
 * `install` writes into /etc/systemd/system have the same names and win over these.
 *
 * A generator must never stop systemd from reloading: a profile that cannot be read is named on
 * stderr (the journal) and skipped, and this command always exits 0.
 */
import path from 'node:path';
import type { Context } from '../context.js';
import { ProfileError, ToolError, formatIssue } from '../errors.js';
import { writeFileSafely } from '../files/write.js';
import { profilesInConfigFolder } from '../profile/load.js';
import { loadCheckedProfiles } from './checked-profiles.js';
import { renderProfileDropIns } from '../units/render.js';

export async function generateCommand(context: Context, normalDir: string): Promise<void> {
  const folder = path.resolve(normalDir);
  for (const name of profilesInConfigFolder(context.paths, context.log)) {
    try {
      const profile = (await loadCheckedProfiles(context, [name]))[0]!;
      for (const file of renderProfileDropIns(profile, { paths: context.paths, entrypoint: context.entrypoint() })) {
        writeFileSafely('/', path.join(folder, file.relativePath), file.text, { mode: 0o644, createFolders: 0o755 });
      }
    } catch (error) {
      if (!(error instanceof ToolError)) throw error;
      const reason = error instanceof ProfileError ? error.issues.map(formatIssue).join('; ') : error.message;
      context.log.warn(`restic-systemd generator: no drop-ins for profile ${name}: ${reason}`);
    }
  }
}
