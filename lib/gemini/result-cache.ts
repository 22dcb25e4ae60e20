import { openAppendLog, readAppendLog, type AppendLog } from '../store/append-log.ts';
import { lineOutcomeSchema, type LineOutcome } from './line-outcome.ts';

const kind = 'chargen-result-cache';
const version = 1;

/**
 * Final outcomes by request key, kept in the workspace: a succeeded line, or a failure that trying again cannot
 * mend. Whatever is here is never sent again, which is how a rerun pays nothing twice.
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

export async function openResultCache(options: { path: string; onSkippedLine?: (lineNumber: number, reason: string) => void }): Promise<ResultCache> {
  const outcomes = new Map<string, LineOutcome>();
  const records = await readAppendLog({ path: options.path, kind, version, schema: lineOutcomeSchema, ...(options.onSkippedLine ? { onSkippedLine: options.onSkippedLine } : {}) });
  for (const record of records) outcomes.set(record.key, record);
  const log: AppendLog<LineOutcome> = await openAppendLog({ path: options.path, kind, version });
  return {
    get: (key) => outcomes.get(key),
    async put(outcome) {
      if (!isFinal(outcome)) return;
      outcomes.set(outcome.key, outcome);
      await log.append(outcome);
    },
    size: () => outcomes.size,
    close: () => log.close(),
  };
}

/** The keys a cache holds final outcomes for, read without opening it for writing (for plans and dry runs). */
export async function readCachedKeys(path: string): Promise<Set<string>> {
  const records = await readAppendLog({ path, kind, version, schema: lineOutcomeSchema });
  return new Set(records.filter(isFinal).map((record) => record.key));
}

/**
 * The final outcomes a cache holds for the given keys, read without opening it for writing (for plans and dry runs
 * that must look inside an answer: the image stage asks whether its image is still stored).
 */
export async function readCachedOutcomes(options: { path: string; keys: ReadonlySet<string> }): Promise<Map<string, LineOutcome>> {
  const records = await readAppendLog({ path: options.path, kind, version, schema: lineOutcomeSchema });
  const outcomes = new Map<string, LineOutcome>();
  for (const record of records) if (options.keys.has(record.key) && isFinal(record)) outcomes.set(record.key, record);
  return outcomes;
}
