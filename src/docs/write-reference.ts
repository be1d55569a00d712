/** `npm run docs`: writes the generated reference pages and man pages, and the generated parts of others, into docs/
 * and man/. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_BLOCKS, GENERATED_DOCS } from './generated.js';
import { spliceGeneratedBlock } from './reference.js';

const project = fileURLToPath(new URL('../../', import.meta.url));
for (const [file, generate] of Object.entries(GENERATED_DOCS)) {
  fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
  fs.writeFileSync(path.join(project, file), generate());
  process.stdout.write(`wrote ${file}\n`);
}
for (const [file, { id, generate }] of Object.entries(GENERATED_BLOCKS)) {
  const page = path.join(project, file);
  fs.writeFileSync(page, spliceGeneratedBlock(fs.readFileSync(page, 'utf8'), id, generate()));
  process.stdout.write(`wrote the generated part of ${file}\n`);
}
