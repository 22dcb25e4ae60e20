import { writeFileAtomic } from '../store/atomic-file.ts';
import { describeRequestProblem, toWireRequest } from './check-request-line.ts';
import type { RequestLine } from './line-outcome.ts';

/** A chunk's request JSONL, one `{"key", "request"}` line per request in the chunk's order (a 400 at create names lines by number). */
export async function writeRequestFile(path: string, lines: readonly RequestLine[]): Promise<void> {
  const text = lines.map((line) => {
    const wire = toWireRequest(line.request);
    // Lines are checked before they are chunked: one that fails here is a bug, not bad input.
    if (!wire.ok) throw new Error(`request ${line.key} reached the request file unchecked: ${describeRequestProblem(wire.problem)}`);
    return `${JSON.stringify({ key: line.key, request: wire.value })}\n`;
  });
  await writeFileAtomic(path, text.join(''));
}
