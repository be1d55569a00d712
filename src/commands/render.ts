/** `render <name> [--out DIR]`: what install would write, touching nothing else. */
import path from 'node:path';
import type { Context } from '../context.js';
import { loadCheckedProfiles } from './checked-profiles.js';
import { writeFileSafely } from '../files/write.js';
import { renderUnits } from '../units/render.js';

export async function renderCommand(context: Context, name: string, out?: string): Promise<void> {
  const profile = (await loadCheckedProfiles(context, [name]))[0]!;
  const files = renderUnits([profile], { paths: context.paths, entrypoint: context.entrypoint() });
  if (out) {
    // An operator's folder, not under --root: it must not be one another account could change.
    for (const file of files)
      writeFileSafely('/', path.resolve(out, file.relativePath), file.text, { mode: 0o644, createFolders: 0o755 });
  }
  if (context.json) {
    context.print(
      JSON.stringify(
        {
          files: files.map((file) => ({
            path: path.posix.join(context.paths.unitDir, file.relativePath),
            text: file.text,
          })),
        },
        null,
        2,
      ),
    );
  } else if (out) {
    files.forEach((file) => context.print(`wrote ${path.join(out, file.relativePath)}`));
  } else {
    context.print(
      files
        .map((file) => `# ==> ${path.posix.join(context.paths.unitDir, file.relativePath)} <==\n${file.text}`)
        .join('\n'),
    );
  }
}
