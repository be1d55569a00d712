/**
 * What internal-pipeline reads from restic's environment: the dump's stages, and the repository
 * lock it must close before they start (they run as another account).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeHeldLock, heldLockNote, readStageSpec } from '../../src/exec/stage-spec.js';

const isOpen = (fd: number) => {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

describe('the repository lock handed down through restic', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'stage-spec-'));
  afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('the descriptor named by number and file is closed', () => {
    const fd = fs.openSync(path.join(folder, 'repository.lock'), 'w');
    closeHeldLock(heldLockNote(fd, fd));
    expect(isOpen(fd)).toBe(false);
  });

  test('another file under that number is left open, as is anything below 3 or a note that does not parse', () => {
    const lock = fs.openSync(path.join(folder, 'a.lock'), 'w');
    const note = heldLockNote(lock, lock);
    fs.closeSync(lock);
    const other = fs.openSync(path.join(folder, 'other'), 'w');
    // The same number, reused by another file.
    closeHeldLock(note.replace(/^\d+/, String(other)));
    expect(isOpen(other)).toBe(true);
    closeHeldLock(`2:${note.split(':').slice(1).join(':')}`);
    expect(isOpen(2)).toBe(true);
    for (const bad of [undefined, '', 'x:1:2', `${other}`, `${other}:1`]) closeHeldLock(bad);
    expect(isOpen(other)).toBe(true);
    fs.closeSync(other);
  });

  test('stages that are not an array of programs are refused, with what the command is for', () => {
    expect(() => readStageSpec('{}')).toThrow(/not meant to be run by hand/);
    expect(readStageSpec('[{"program":"/bin/true","args":[],"env":{},"keep":[]}]')).toHaveLength(1);
  });
});
