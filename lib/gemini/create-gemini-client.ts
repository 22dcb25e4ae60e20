import { GoogleGenAI } from '@google/genai';
import { createRetryAfterFetch } from './retry-after-fetch.ts';
import type { GeminiConnection } from './resolve-gemini-connection.ts';

// Finding the key needs no SDK: `chargen status` resolves its backend without loading @google/genai (start-up).
export { requireGeminiConnection, resolveGeminiConnection, type GeminiConnection } from './resolve-gemini-connection.ts';

/** The real SDK, always on v1beta (2.x's default, and the only version the batch and files docs show). */
export function createGeminiClient(connection: GeminiConnection, options: { fetch?: typeof globalThis.fetch } = {}): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: connection.apiKey,
    apiVersion: 'v1beta',
    httpOptions: {
      ...(connection.baseUrl ? { baseUrl: connection.baseUrl } : {}),
      fetch: createRetryAfterFetch(options.fetch ?? globalThis.fetch),
    },
  });
}
