import type { GeminiExecutor } from '../../lib/gemini/gemini-executor.ts';
import type { PendingEntry } from './core/plan-synthesis.ts';

/**
 * An image whose seed is chargen's own choice, and whose request without the seed was answered before (by a chargen
 * that sent no seeds), takes that answer: the upgrade pays for no image again. The seeded request's own answer wins
 * when there is one; with neither, the seeded request is sent. Only the workspace's cache is asked, nothing is sent.
 */
export async function preferAnsweredRequests(options: { pending: readonly PendingEntry[]; executor: GeminiExecutor; stage?: string }): Promise<PendingEntry[]> {
  const alternatives = options.pending.flatMap((entry) => (entry.unseeded ? [entry.key, entry.unseeded.key] : []));
  if (alternatives.length === 0 || !options.executor.findAnswered) return [...options.pending];
  const answered = await options.executor.findAnswered({ stage: options.stage ?? 'synthesize', keys: alternatives });
  return options.pending.map((entry) =>
    entry.unseeded && !answered.has(entry.key) && answered.has(entry.unseeded.key) ? { prompt: entry.unseeded.prompt, baseName: entry.baseName, key: entry.unseeded.key } : entry,
  );
}
