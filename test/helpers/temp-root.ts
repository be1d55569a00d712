/** Temporary target roots for tests, and a snapshot of a tree to prove nothing changed. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const roots: string[] = [];

export function tempRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'restic-systemd-test-'));
  fs.mkdirSync(path.join(root, 'etc/restic'), { recursive: true });
  roots.push(root);
  return root;
}

export function removeTempRoots(): void {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
}

/** Write a profile (mode 0600 unless told) under root's /etc/restic. */
export function writeProfile(root: string, name: string, text: string, mode = 0o600): string {
  const file = path.join(root, 'etc/restic', `${name}.conf`);
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
  return file;
}

/** Every file, folder and link under root with its mode, content or target, for comparisons. */
export function snapshotTree(root: string): Record<string, string> {
  const tree: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of fs.readdirSync(folder).sort()) {
      const full = path.join(folder, entry);
      const relative = path.relative(root, full);
      const stat = fs.lstatSync(full);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) tree[relative] = `link ${fs.readlinkSync(full)}`;
      else if (stat.isDirectory()) {
        tree[relative] = `dir ${mode}`;
        walk(full);
      } else tree[relative] = `file ${mode} ${stat.mtimeMs} ${fs.readFileSync(full, 'base64')}`;
    }
  };
  walk(root);
  return tree;
}

/** All text under the unit folder, to search for secrets. */
export function allFileText(folder: string): string {
  if (!fs.existsSync(folder)) return '';
  return fs
    .readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((entry) => path.join(folder, entry))
    .filter((file) => fs.lstatSync(file).isFile())
    .map((file) => fs.readFileSync(file, 'utf8'))
    .join('\n');
}
