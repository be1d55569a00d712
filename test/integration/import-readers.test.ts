/**
 * import reads shell files without running them: wherever it takes a value, bash sourcing the same
 * file gives that value, and every variable bash would set that import does not take is on a line
 * import names as not read. (The env-file reader is compared with systemd itself in
 * test/e2e/security.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isShellFile } from '../../src/import/sources.js';
import { readShellFile } from '../../src/formats/read-shell-file.js';
import { PROJECT } from '../helpers/cli.js';

/** Shell lines on which a reader that runs nothing could go wrong. */
const TRICKY_SHELL = [
  'export A="x y"',
  `A='it'"'"'s'`,
  'B=1\nA=$B/x',
  'B=1\nA="${B}/sub"',
  'A=(one "two three")',
  'A=(a)\nA+=(b)',
  'A=("x y" z)\nA+=("w v")',
  'A=plain\nA+=(b)',
  'A=1\nA+=x',
  'export A B=2',
  'A=x # comment',
  'A="x" # comment',
  'A=x#y',
  'readonly A=1',
  'declare -x A=1',
  'A=1; B=2',
  'A=1 B=2',
  'A=$(hostname)',
  'A=`hostname`',
  'A=~/x',
  'A=/a:~/b',
  'A=x~',
  'A=x\\ y',
  'A="multi\nline"',
  'A=${UNSET:-default}',
  'A=$UNSET',
  "A=$'tab\\tx'",
  'if true; then A=1; fi',
  'export -n A=1',
  'A=*.txt',
  '#!/bin/sh\nset -a\nA=1\nset +a',
  'A="a \\"quoted\\" word"',
  'A=1 \\\n  B=2',
];

// Every variable the file sets, as bash leaves it: NAME\0s\0value or NAME\0a\0word…, each ended by \1.
const DUMP = `
before=" $(compgen -v | tr '\\n' ' ') "
. "$1" >/dev/null 2>&1
for v in $(compgen -v); do
  case "$before" in *" $v "*) continue;; esac
  case "$v" in before|v|w|_|PIPESTATUS) continue;; esac
  if [[ "$(declare -p "$v" 2>/dev/null)" == "declare -a"* ]]; then
    eval "w=(\\"\\\${$v[@]}\\")"; printf '%s\\0a' "$v"; printf '\\0%s' "\${w[@]}"
  else
    printf '%s\\0s\\0%s' "$v" "\${!v}"
  fi
  printf '\\1'
done`;

function bashSets(file: string): Record<string, string | string[]> {
  const result = spawnSync('bash', ['--noprofile', '--norc', '-c', DUMP, 'bash', file], {
    encoding: 'utf8',
    env: { HOME: '/root', PATH: '/usr/bin:/bin' },
  });
  if (result.error) throw new Error(`bash is missing: apt-get install bash (${result.error.message})`);
  return Object.fromEntries(
    result.stdout
      .split('\u0001')
      .filter(Boolean)
      .map((entry) => {
        const [name, kind, ...rest] = entry.split('\0');
        return [name!, kind === 'a' ? rest : (rest[0] ?? '')];
      }),
  );
}

function shellInputs(): Array<{ name: string; text: string }> {
  const inputs = TRICKY_SHELL.map((text, index) => ({
    name: `line ${index}: ${JSON.stringify(text)}`,
    text: `${text}\n`,
  }));
  const fixtures = path.join(PROJECT, 'fixtures/import');
  for (const layout of fs.readdirSync(fixtures)) {
    const root = path.join(fixtures, layout, 'root');
    for (const entry of fs.readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      const file = path.join(root, entry);
      if (!fs.lstatSync(file).isFile()) continue;
      const text = fs.readFileSync(file, 'utf8');
      if (isShellFile(text)) inputs.push({ name: `${layout}/${entry}`, text });
    }
  }
  return inputs;
}

test('the fixtures include shell files', () => {
  expect(shellInputs().filter((input) => !input.name.startsWith('line ')).length).toBeGreaterThanOrEqual(2);
});

test.each(shellInputs().map((input) => [input.name, input.text]))(
  '%s: what import takes, bash sets alike; what bash sets and import does not take, import names',
  (_name, text) => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-shell-'));
    try {
      const file = path.join(folder, 'input.sh');
      fs.writeFileSync(file, text);
      const bash = bashSets(file);
      const ours = readShellFile(text);
      const taken = Object.fromEntries(ours.assignments.map((item) => [item.key, item.words ?? item.value]));
      for (const [key, value] of Object.entries(taken)) expect({ key, value }).toEqual({ key, value: bash[key] });
      const ignoredText = ours.ignored.map((item) => item.text).join('\n');
      for (const key of Object.keys(bash).filter((name) => !(name in taken)))
        expect({ key, named: ignoredText.includes(key) }).toEqual({ key, named: true });
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  },
);
