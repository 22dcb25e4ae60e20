import { access } from 'node:fs/promises';
import { openWorkspaceDatabase, openWorkspaceDatabaseForReading, type WorkspaceDatabase } from '../store/workspace-database.ts';
import { resultCachePath, stateDatabasePath } from '../store/workspace-layout.ts';
import { WorkspaceFileError } from '../errors.ts';
import { importResultLogs, readResultLog } from './import-result-logs.ts';
import { lineOutcomeSchema, type LineOutcome } from './line-outcome.ts';

/**
 * Final outcomes by request key, kept in the backend's database (`state.sqlite`, table `outcomes`): a succeeded
 * line, or a failure that trying again cannot mend. Whatever is here is never sent again, which is how a rerun pays
 * nothing twice. Each outcome is committed as it arrives and read back by key, so none is held in memory here.
 */
export interface ResultCache {
  get(key: string): LineOutcome | undefined;
  put(outcome: LineOutcome): Promise<void>;
  size(): number;
  close(): Promise<void>;
}

export function isFinal(outcome: LineOutcome): boolean {
  return outcome.status === 'succeeded' || !outcome.retryable;
}

/** An outcome as stored: checked against its schema (the file is the user's, and may have been edited). */
function parseStoredOutcome(options: { database: WorkspaceDatabase; stage: string; text: string }): LineOutcome {
  let value: unknown;
  try {
    value = JSON.parse(options.text) as unknown;
  } catch {
    value = undefined;
  }
  const parsed = lineOutcomeSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new WorkspaceFileError({
    path: options.database.path,
    problem: `holds an outcome of stage ${options.stage} that does not match its schema`,
    fix: 'Delete the file to start afresh (answers would be paid for again); chargen never writes such a row itself.',
  });
}

/** Opens a stage's outcomes for a run, moving the backend's result logs of an older chargen into the database first. */
export async function openResultCache(options: {
  stateDirectory: string;
  stage: string;
  now?: () => number;
  onSkippedLine?: (file: string, lineNumber: number, reason: string) => void;
}): Promise<ResultCache> {
  const now = options.now ?? Date.now;
  const database = openWorkspaceDatabase({ path: stateDatabasePath(options.stateDirectory), now });
  try {
    await importResultLogs({ database, stateDirectory: options.stateDirectory, now, ...(options.onSkippedLine ? { onSkippedLine: options.onSkippedLine } : {}) });
  } catch (error) {
    database.close();
    throw error;
  }
  const { stage } = options;
  const select = database.connection.prepare('SELECT outcome FROM outcomes WHERE stage = ? AND key = ?').pluck();
  const insert = database.connection.prepare('INSERT OR REPLACE INTO outcomes (stage, key, status, outcome) VALUES (?, ?, ?, ?)');
  const count = database.connection.prepare('SELECT count(*) FROM outcomes WHERE stage = ?').pluck();
  return {
    get(key) {
      const text = select.get(stage, key) as string | undefined;
      return text === undefined ? undefined : parseStoredOutcome({ database, stage, text });
    },
    async put(outcome) {
      if (!isFinal(outcome)) return;
      // Autocommit: one transaction per outcome, on disk (synchronous=FULL) before the line counts as answered.
      insert.run(stage, outcome.key, outcome.status, JSON.stringify(outcome));
    },
    size: () => Number(count.get(stage)),
    async close() {
      database.close();
    },
  };
}

/**
 * A stage's final outcomes, read without opening the database for writing (plans, dry runs, `status`): from the
 * database, and from a result log an older chargen left that no run has moved in yet.
 */
async function* readFinalOutcomes(options: { stateDirectory: string; stage: string; keys: ReadonlySet<string> }): AsyncGenerator<LineOutcome> {
  const logPath = resultCachePath(options.stateDirectory, options.stage);
  const hasLog = await access(logPath).then(() => true, () => false);
  if (hasLog) for (const record of await readResultLog({ path: logPath })) if (isFinal(record) && options.keys.has(record.key)) yield record;
  const database = openWorkspaceDatabaseForReading({ path: stateDatabasePath(options.stateDirectory) });
  if (!database) return;
  try {
    const select = database.connection.prepare('SELECT outcome FROM outcomes WHERE stage = ? AND key = ?').pluck();
    for (const key of options.keys) {
      const text = select.get(options.stage, key) as string | undefined;
      if (text !== undefined) yield parseStoredOutcome({ database, stage: options.stage, text });
    }
  } finally {
    database.close();
  }
}

/** The keys a stage holds final outcomes for, read without opening the database for writing (for plans and dry runs). */
export async function readCachedKeys(options: { stateDirectory: string; stage: string }): Promise<Set<string>> {
  const keys = new Set<string>();
  const logPath = resultCachePath(options.stateDirectory, options.stage);
  if (await access(logPath).then(() => true, () => false)) for (const record of await readResultLog({ path: logPath })) if (isFinal(record)) keys.add(record.key);
  const database = openWorkspaceDatabaseForReading({ path: stateDatabasePath(options.stateDirectory) });
  if (!database) return keys;
  try {
    // Only final outcomes are ever put, so every row's key counts.
    for (const key of database.connection.prepare('SELECT key FROM outcomes WHERE stage = ?').pluck().iterate(options.stage)) keys.add(key as string);
  } finally {
    database.close();
  }
  return keys;
}

/** How many final outcomes a stage holds (`status`): counted in the database, never loaded. */
export async function countCachedOutcomes(options: { stateDirectory: string; stage: string }): Promise<number> {
  // A log of an older chargen not moved in yet (no run since the upgrade): its keys and the database's, once each.
  if (await access(resultCachePath(options.stateDirectory, options.stage)).then(() => true, () => false)) return (await readCachedKeys(options)).size;
  const database = openWorkspaceDatabaseForReading({ path: stateDatabasePath(options.stateDirectory) });
  if (!database) return 0;
  try {
    return Number(database.connection.prepare('SELECT count(*) FROM outcomes WHERE stage = ?').pluck().get(options.stage));
  } finally {
    database.close();
  }
}

/**
 * The final outcomes a stage holds for the given keys, read without opening the database for writing (for plans and
 * dry runs that must look inside an answer: the image stage asks whether its image is still stored).
 */
export async function readCachedOutcomes(options: { stateDirectory: string; stage: string; keys: ReadonlySet<string> }): Promise<Map<string, LineOutcome>> {
  const outcomes = new Map<string, LineOutcome>();
  for await (const outcome of readFinalOutcomes(options)) outcomes.set(outcome.key, outcome);
  return outcomes;
}
