import type { Interaction } from './cassette-schema.ts';
import { normalizeRequestTarget } from './request-target.ts';

/**
 * The recorded request most like one the cassette lacks, to put in the miss message: on the same path, preferring
 * the same method, then the same query. `undefined` when nothing was recorded on that path.
 */
export function findNearestRequest(options: {
  interactions: readonly Interaction[];
  method: string;
  url: string;
}): Interaction['request'] | undefined {
  const target = normalizeRequestTarget(options.url);
  const path = target.split('?')[0];
  let best: { request: Interaction['request']; score: number } | undefined;
  for (const { request } of options.interactions) {
    const recordedTarget = normalizeRequestTarget(request.url);
    if (recordedTarget.split('?')[0] !== path) continue;
    const score = (request.method === options.method ? 2 : 0) + (recordedTarget === target ? 1 : 0);
    if (best === undefined || score > best.score) best = { request, score };
  }
  return best?.request;
}
