import Database from 'better-sqlite3';

/**
 * Edits the JSON of the first item of a kind in a stage's checkpoint (`<workspace>/checkpoints.sqlite`), as a hand or
 * a disk might; returns what puts it back.
 */
export function editCheckpointItem(path: string, options: { stage: string; kind: string; edit: (value: Record<string, unknown>) => void }): () => void {
  const database = new Database(path);
  try {
    const row = database.prepare('SELECT rowid, value FROM stage_items WHERE stage = ? AND kind = ? ORDER BY source_path, variant LIMIT 1').get(options.stage, options.kind) as { rowid: number; value: string };
    const value = JSON.parse(row.value) as Record<string, unknown>;
    options.edit(value);
    database.prepare('UPDATE stage_items SET value = ? WHERE rowid = ?').run(JSON.stringify(value), row.rowid);
    return () => {
      const restore = new Database(path);
      try {
        restore.prepare('UPDATE stage_items SET value = ? WHERE rowid = ?').run(row.value, row.rowid);
      } finally {
        restore.close();
      }
    };
  } finally {
    database.close();
  }
}
