/** `npm run docs`: writes the generated reference pages into docs/. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_DOCS } from './reference.js';

const project = fileURLToPath(new URL('../../', import.meta.url));
for (const [file, generate] of Object.entries(GENERATED_DOCS)) {
  fs.writeFileSync(path.join(project, file), generate());
  process.stdout.write(`wrote ${file}\n`);
}
