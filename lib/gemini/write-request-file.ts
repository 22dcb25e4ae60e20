import { writeFileAtomic } from '../store/atomic-file.ts';
import { describeRequestProblem, toWireRequest } from './check-request-line.ts';
import type { RequestLine } from './line-outcome.ts';
import type { BatchService } from './batch-service.ts';

/** The request file's lines, each made as it is written: a chunk's file (megabytes) is never one string in memory. */
function* formatRequestLines(lines: readonly RequestLine[], formatLine: BatchService['formatRequestLine']): Generator<string> {
  for (const line of lines) {
    const wire = toWireRequest(line.request);
    // Lines are checked before they are chunked: one that fails here is a bug, not bad input.
    if (!wire.ok) throw new Error(`request ${line.key} reached the request file unchecked: ${describeRequestProblem(wire.problem)}`);
    yield `${JSON.stringify(formatLine({ key: line.key, request: wire.value }))}\n`;
  }
}

/**
 * A chunk's request JSONL, one line per request as the batch service wants it (`{"key", "request"}` on the Gemini API) in the chunk's order (a 400 at create names lines
 * by number). Written a batch of lines at a time: every chunk under way writes its file at once when a run starts, and
 * whole files held as strings were most of a run's peak memory (bench/run-rss.ts, heap sampled at the peak).
 */
export async function writeRequestFile(options: { path: string; lines: readonly RequestLine[]; formatLine: BatchService['formatRequestLine'] }): Promise<void> {
  await writeFileAtomic(options.path, formatRequestLines(options.lines, options.formatLine));
}
