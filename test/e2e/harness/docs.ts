/**
 * The command blocks of the documentation, as the docs' tests run them: every ```sh block of a
 * Markdown page, in order, unless the line before it says otherwise:
 *   <!-- shown only: <why> -->   the block is an example that is not run;
 *   <!-- on Debian 13 -->        the block is run on that release only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT } from '../../helpers/cli.js';
import type { DebianRelease } from './rootfs.js';

export interface DocStep {
  /** Where the block is, as file:line. */
  where: string;
  code: string;
}

export function runnableBlocks(page: string, release: DebianRelease): DocStep[] {
  const lines = fs.readFileSync(path.join(PROJECT, page), 'utf8').split('\n');
  const steps: DocStep[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (lines[index] !== '```sh') continue;
    const end = lines.indexOf('```', index + 1);
    if (end < 0) throw new Error(`${page}:${index + 1}: a code block that never ends`);
    let before = index - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const marker = before >= 0 ? /^<!-- (shown only: .+|on (Debian \d+)) -->$/.exec(lines[before]!.trim()) : null;
    const runs = !marker || (marker[2] !== undefined && marker[2] === release.name);
    if (runs) steps.push({ where: `${page}:${index + 1}`, code: lines.slice(index + 1, end).join('\n') });
    index = end;
  }
  return steps;
}
