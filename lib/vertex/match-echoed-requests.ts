import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { fingerprintEchoedRequest, readKeyFromLabels } from '../gemini/request-key-labels.ts';

const requestLineSchema = z.object({ request: z.record(z.string(), z.unknown()) });

/**
 * The keys of a job's requests by their content (labels aside), read from the request file chargen wrote: for a
 * result line whose echoed request came back without its key labels. Built when the first such line is met, and
 * dropped with the job's results (a job holds at most chunkMaxLines requests).
 */
export async function readEchoMatcher(requestFilePath: string): Promise<(request: unknown) => string | undefined> {
  const keys = new Map<string, string>();
  if (!(await access(requestFilePath).then(() => true, () => false))) {
    // A workspace cleaned by hand: nothing can be matched, and those lines go again rather than block the job's others.
    return () => undefined;
  }
  const lines = createInterface({ input: createReadStream(requestFilePath), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of lines) {
    if (text.trim() === '') continue;
    let parsed: z.infer<typeof requestLineSchema>;
    try {
      parsed = requestLineSchema.parse(JSON.parse(text));
    } catch {
      // chargen wrote this file; a line it cannot read matches nothing, and its key goes again in the next round.
      continue;
    }
    const key = readKeyFromLabels(parsed.request);
    const fingerprint = fingerprintEchoedRequest(parsed.request);
    if (key !== undefined && fingerprint !== undefined) keys.set(fingerprint, key);
  }
  return (request) => {
    const fingerprint = fingerprintEchoedRequest(request);
    return fingerprint === undefined ? undefined : keys.get(fingerprint);
  };
}
