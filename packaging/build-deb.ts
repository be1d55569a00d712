/**
 * `npm run deb [-- --version V] [-- --out DIR]`: the Debian package restic-systemd_<version>_all.deb,
 * built by Debian's dpkg-deb from a staged tree (docs/packaging.md says what goes where and why):
 * the CLI bundled by esbuild into one file beside its templates under /usr/lib/restic-systemd, the
 * command on /usr/bin, the man pages, bash completion, the docs and the Prometheus alert rules.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { PROJECT, bundleCli, filesUnder, writeStaged } from './bundle.js';

const DEBIAN = path.join(PROJECT, 'packaging', 'debian');
const LIB = 'usr/lib/restic-systemd';
const DOC = 'usr/share/doc/restic-systemd';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function run(argv: string[]): string {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (result.error) throw new Error(`${argv[0]} could not be started (${result.error.message}): apt-get install dpkg`);
  if (result.status !== 0)
    throw new Error(`${argv.join(' ')} exited ${result.status}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** gzip -9n: no name, no time stamp, so that the same input always gives the same bytes (Debian policy 12.3). */
function gzip(content: string | Buffer): Buffer {
  return zlib.gzipSync(content, { level: 9 });
}

/** The npm packages esbuild put into the bundle, with their licence texts. */
function bundledPackages(inputs: string[]): Array<{ name: string; version: string; license: string; text: string }> {
  const folders = new Set<string>();
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) folders.add(match[1]!);
  }
  return [...folders].sort().map((folder) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT, folder, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      license?: string;
    };
    const licenseFile = fs
      .readdirSync(path.join(PROJECT, folder))
      .find((entry) => /^(licen[cs]e|copying)([-.]|$)/i.test(entry));
    if (!licenseFile)
      throw new Error(`${manifest.name} has no licence file in ${folder}: its licence cannot be shipped`);
    return {
      name: manifest.name,
      version: manifest.version,
      license: manifest.license ?? 'see its licence text',
      text: fs.readFileSync(path.join(PROJECT, folder, licenseFile), 'utf8'),
    };
  });
}

async function main(): Promise<void> {
  const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT, 'package.json'), 'utf8')) as { version: string };
  const version = option('version') ?? manifest.version;
  if (!/^[0-9][A-Za-z0-9.+~]*$/.test(version))
    throw new Error(`--version ${version}: a Debian native version (digits first, then letters, digits, . + ~)`);
  const out = path.resolve(option('out') ?? path.join(PROJECT, 'build'));
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-deb-'));
  fs.chmodSync(stage, 0o755);
  try {
    const metafile = await bundleCli(path.join(stage, LIB), version);
    fs.mkdirSync(path.join(stage, 'usr/bin'), { recursive: true });
    fs.symlinkSync('../lib/restic-systemd/dist/cli.js', path.join(stage, 'usr/bin/restic-systemd'));

    writeStaged(
      stage,
      'usr/share/man/man1/restic-systemd.1.gz',
      gzip(fs.readFileSync(path.join(PROJECT, 'man/restic-systemd.1'))),
    );
    writeStaged(
      stage,
      'usr/share/man/man5/restic-systemd.conf.5.gz',
      gzip(fs.readFileSync(path.join(PROJECT, 'man/restic-systemd.conf.5'))),
    );
    // yargs' completion script, as the bundled CLI prints it: it asks `restic-systemd --get-yargs-completions`.
    writeStaged(
      stage,
      'usr/share/bash-completion/completions/restic-systemd',
      run([process.execPath, path.join(stage, LIB, 'dist/cli.js'), 'completion']),
    );
    writeStaged(
      stage,
      'usr/share/restic-systemd/prometheus/restic-systemd.rules.yml',
      fs.readFileSync(path.join(PROJECT, 'contrib/prometheus/restic-systemd.rules.yml')),
    );

    writeStaged(stage, `${DOC}/README.md.gz`, gzip(fs.readFileSync(path.join(PROJECT, 'README.md'))));
    for (const file of fs.readdirSync(path.join(PROJECT, 'docs')).filter((name) => name.endsWith('.md'))) {
      writeStaged(stage, `${DOC}/docs/${file}.gz`, gzip(fs.readFileSync(path.join(PROJECT, 'docs', file))));
    }
    const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000)) * 1000)
      .toUTCString()
      .replace('GMT', '+0000');
    writeStaged(
      stage,
      `${DOC}/changelog.gz`,
      gzip(
        fs
          .readFileSync(path.join(DEBIAN, 'changelog.in'), 'utf8')
          .replaceAll('@VERSION@', version)
          .replace('@DATE@', date),
      ),
    );
    const packages = bundledPackages(Object.keys(metafile.inputs));
    const copyright = [
      fs.readFileSync(path.join(DEBIAN, 'copyright.head'), 'utf8'),
      'Files: usr/lib/restic-systemd/dist/cli.js',
      'Copyright: 2026 restic-systemd developers, and the authors of the bundled npm packages:',
      ...packages.map((entry) => ` ${entry.name} ${entry.version} (${entry.license})`),
      `License: Expat and others`,
      ' The bundled packages are under their own licences (named above); their texts are',
      ' in /usr/share/doc/restic-systemd/bundled-licenses.txt.gz.',
      '',
      fs.readFileSync(path.join(DEBIAN, 'copyright.expat'), 'utf8'),
    ].join('\n');
    writeStaged(stage, `${DOC}/copyright`, copyright);
    writeStaged(
      stage,
      `${DOC}/bundled-licenses.txt.gz`,
      gzip(
        packages
          .map((entry) => `==== ${entry.name} ${entry.version} (${entry.license}) ====\n\n${entry.text.trimEnd()}\n`)
          .join('\n'),
      ),
    );
    writeStaged(
      stage,
      'usr/share/lintian/overrides/restic-systemd',
      fs.readFileSync(path.join(DEBIAN, 'lintian-overrides')),
    );

    const payload = filesUnder(stage)
      .map((file) => path.relative(stage, file))
      .sort();
    writeStaged(
      stage,
      'DEBIAN/md5sums',
      payload
        .map(
          (file) =>
            `${crypto
              .createHash('md5')
              .update(fs.readFileSync(path.join(stage, file)))
              .digest('hex')}  ${file}\n`,
        )
        .join(''),
    );
    const installedKib = Math.ceil(
      payload.reduce((sum, file) => sum + fs.statSync(path.join(stage, file)).size, 0) / 1024,
    );
    writeStaged(
      stage,
      'DEBIAN/control',
      fs
        .readFileSync(path.join(DEBIAN, 'control'), 'utf8')
        .replace('@VERSION@', version)
        .replace('@INSTALLED_SIZE@', String(installedKib)),
    );
    writeStaged(stage, 'DEBIAN/prerm', fs.readFileSync(path.join(DEBIAN, 'prerm')), 0o755);

    fs.mkdirSync(out, { recursive: true });
    const deb = path.join(out, `restic-systemd_${version}_all.deb`);
    run(['dpkg-deb', '--root-owner-group', '-Zxz', '--build', stage, deb]);
    process.stdout.write(`${deb}\n`);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`npm run deb: ${error.message}\n`);
  process.exitCode = 1;
});
