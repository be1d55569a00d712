/** `npm run docs`: writes the generated reference pages, and the generated parts of others, into docs/. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_BLOCKS, GENERATED_DOCS, spliceGeneratedBlock } from './reference.js';

const project = fileURLToPath(new URL('../../', import.meta.url));
for (const [file, generate] of Object.entries(GENERATED_DOCS)) {
  fs.writeFileSync(path.join(project, file), generate());
  process.stdout.write(`wrote ${file}\n`);
}
for (const [file, { id, generate }] of Object.entries(GENERATED_BLOCKS)) {
  const page = path.join(project, file);
  fs.writeFileSync(page, spliceGeneratedBlock(fs.readFileSync(page, 'utf8'), id, generate()));
  process.stdout.write(`wrote the generated part of ${file}\n`);
}
