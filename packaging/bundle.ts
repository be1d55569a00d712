/**
 * The CLI as the Debian package ships it: src/cli.ts and the npm packages it uses bundled by
 * esbuild into one file, <folder>/dist/cli.js, with package.json and the templates beside it
 * (the layout src/package-files.ts expects). Used by npm run deb and by the benchmark.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

// Not import.meta.dirname: Node.js 18 (Debian 12's) has none.
export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function filesUnder(folder: string): string[] {
  return fs
    .readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Write `file` under `folder` with exactly this mode, its folders made 0755: a staged tree as the package will hold
 * it. */
export function writeStaged(folder: string, file: string, content: string | Buffer, mode = 0o644): void {
  const target = path.join(folder, file);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  fs.writeFileSync(target, content, { mode });
  fs.chmodSync(target, mode);
}

/** Bundle into `folder` (made if missing); esbuild's metafile names what went in. */
export async function bundleCli(folder: string, version: string): Promise<Metafile> {
  const bundle = await build({
    entryPoints: [path.join(PROJECT, 'src/cli.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18.19',
    write: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    // The bundled CommonJS packages (handlebars) call require(): give the ES module one.
    banner: {
      js:
        "import { createRequire as resticSystemdCreateRequire } from 'node:module';\nconst require = " +
        'resticSystemdCreateRequire(import.meta.url);',
    },
  });
  const code = bundle.outputFiles[0]!.text.replace(/^#!.*\n/, '');
  writeStaged(folder, 'dist/cli.js', `#!/usr/bin/node\n${code}`, 0o755);
  // "type": "module" makes node read the bundle as an ES module; --version prints this version.
  writeStaged(
    folder,
    'package.json',
    `${JSON.stringify({ name: 'restic-systemd', version, type: 'module', private: true }, null, 2)}\n`,
  );
  for (const file of filesUnder(path.join(PROJECT, 'templates')))
    writeStaged(folder, path.relative(PROJECT, file), fs.readFileSync(file));
  return bundle.metafile;
}
