import { readdir, rm, rmdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readAppendLog } from '../store/append-log.ts';
import { openWorkspaceDatabase, type WorkspaceDatabase } from '../store/workspace-database.ts';
import { backendsDirectory, backendStateDirectory, legacyResultsDirectory, stateDatabasePath } from '../store/workspace-layout.ts';
import { WorkspaceFileError } from '../errors.ts';
import { lineOutcomeSchema, type LineOutcome } from './line-outcome.ts';

/** The append logs' header: what result caches were before the database. */
export const resultLogKind = 'chargen-result-cache';
export const resultLogVersion = 1;

/** A result log read whole (the format before the database), or nothing when there is none. */
export function readResultLog(options: { path: string; onSkippedLine?: (lineNumber: number, reason: string) => void }): Promise<LineOutcome[]> {
  return readAppendLog({ path: options.path, kind: resultLogKind, version: resultLogVersion, schema: lineOutcomeSchema, ...(options.onSkippedLine ? { onSkippedLine: options.onSkippedLine } : {}) });
}

async function listResultLogs(stateDirectory: string): Promise<string[]> {
  const names = await readdir(legacyResultsDirectory(stateDirectory)).catch(() => [] as string[]);
  return names.filter((name) => name.endsWith('.jsonl')).sort();
}

/**
 * Moves a backend's result logs (`results/<stage>.jsonl`) into its database, once: each log's outcomes in one
 * transaction with its row in `imported_files`, then the log is removed. A crash before the commit leaves the log
 * to import again; after it, the row says the log is in already, so it is only removed. A later line for a key
 * wins, as it did when the log was read into a map. A log that cannot be read is refused with what to do.
 */
export async function importResultLogs(options: {
  database: WorkspaceDatabase;
  stateDirectory: string;
  now: () => number;
  onSkippedLine?: (file: string, lineNumber: number, reason: string) => void;
}): Promise<{ files: number; outcomes: number }> {
  const { database } = options;
  const isImported = database.connection.prepare('SELECT 1 FROM imported_files WHERE name = ?').pluck();
  const insertOutcome = database.connection.prepare('INSERT OR REPLACE INTO outcomes (stage, key, status, outcome) VALUES (?, ?, ?, ?)');
  const insertImported = database.connection.prepare('INSERT INTO imported_files (name, records, imported_at) VALUES (?, ?, ?)');
  const imported = { files: 0, outcomes: 0 };
  for (const name of await listResultLogs(options.stateDirectory)) {
    const path = join(legacyResultsDirectory(options.stateDirectory), name);
    const relativeName = join('results', name);
    if (isImported.get(relativeName) === undefined) {
      const stage = basename(name, '.jsonl');
      let outcomes: LineOutcome[];
      try {
        outcomes = await readResultLog({ path, onSkippedLine: (line, reason) => options.onSkippedLine?.(relativeName, line, reason) });
      } catch (error) {
        if (!(error instanceof WorkspaceFileError)) throw error;
        throw new WorkspaceFileError({
          path,
          problem: `cannot be moved into the workspace database: ${error.problem}`,
          fix: 'Restore it from a backup, or delete it to start this stage afresh (its answers would be paid for again).',
          cause: error,
        });
      }
      database.transaction(() => {
        for (const outcome of outcomes) insertOutcome.run(stage, outcome.key, outcome.status, JSON.stringify(outcome));
        insertImported.run(relativeName, outcomes.length, new Date(options.now()).toISOString());
      });
      imported.files += 1;
      imported.outcomes += outcomes.length;
    }
    await rm(path, { force: true });
  }
  await rmdir(legacyResultsDirectory(options.stateDirectory)).catch(() => undefined);
  return imported;
}

/**
 * At the start of a run, under the workspace lock: every backend's result logs moved into its database, so the
 * migration happens once and whole, whether or not a stage of this run opens its outcomes.
 */
export async function importWorkspaceResultLogs(options: {
  workspaceDirectory: string;
  now: () => number;
  onSkippedLine?: (file: string, lineNumber: number, reason: string) => void;
}): Promise<{ files: number; outcomes: number }> {
  const total = { files: 0, outcomes: 0 };
  const backends = await readdir(backendsDirectory(options.workspaceDirectory), { withFileTypes: true }).catch(() => []);
  for (const backend of backends) {
    if (!backend.isDirectory()) continue;
    const stateDirectory = backendStateDirectory(options.workspaceDirectory, backend.name);
    if ((await listResultLogs(stateDirectory)).length === 0) continue;
    const database = openWorkspaceDatabase({ path: stateDatabasePath(stateDirectory), now: options.now });
    try {
      const imported = await importResultLogs({ database, stateDirectory, now: options.now, ...(options.onSkippedLine ? { onSkippedLine: options.onSkippedLine } : {}) });
      total.files += imported.files;
      total.outcomes += imported.outcomes;
    } finally {
      database.close();
    }
  }
  return total;
}
