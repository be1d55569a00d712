/** Every page generated from the code, and the generated parts of hand-written ones: what `npm run docs` writes and
 * the docs test compares. */
import { commandManPage, profileManPage } from './man.js';
import { commandReference, exitCodeReference, profileReference } from './reference.js';

export const GENERATED_DOCS: Record<string, () => string> = {
  'docs/profile.md': profileReference,
  'docs/exit-codes.md': exitCodeReference,
  'man/restic-systemd.1': commandManPage,
  'man/restic-systemd.conf.5': profileManPage,
};

/** Parts of hand-written pages generated from the code: between `<!-- generated: <id> -->` and `<!-- end of generated
 * -->`. */
export const GENERATED_BLOCKS: Record<string, { id: string; generate: () => string }> = {
  'docs/commands.md': { id: 'command reference (npm run docs; do not edit by hand)', generate: commandReference },
};
