/**
 * Snapshot IDs: runs store the full ID (restic 0.15 and newer print it in the backup summary);
 * restic 0.14 prints only the short one, so the full one is read from restic's own JSON that lists
 * the snapshot (forget's kept snapshots, or `snapshots --json <id>`).
 */

/** The full ID of the snapshot whose ID starts with `id`, from restic JSON that mentions it; else `id` itself. */
export function fullSnapshotId(id: string, resticJson?: string): string {
  if (id.length === 64 || !resticJson) return id;
  const found = new RegExp(`"id":"(${id}[0-9a-f]{${64 - id.length}})"`).exec(resticJson);
  return found?.[1] ?? id;
}
