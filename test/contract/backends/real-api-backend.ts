import { GoogleGenAI } from '@google/genai';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKeyedRequest } from '../../support/create-keyed-request.ts';
import type { GeminiBackendDefinition } from '../gemini-backend.ts';

const realApiBaseUrl = 'https://generativelanguage.googleapis.com';

/**
 * The key from the process environment only. vitest loads no `.env` into process.env (Vite's env files reach only
 * VITE_-prefixed import.meta.env), and nothing here reads one, so a key kept in a developer's .env never turns this
 * backend on by accident; it has to be exported on purpose.
 */
export function findRealApiKey(environment: NodeJS.ProcessEnv = process.env): string | undefined {
  return environment['GEMINI_API_KEY'] || environment['GOOGLE_API_KEY'] || undefined;
}

/**
 * The real Gemini API, with none of the capabilities: only the cases that need nothing run (models.get, a file
 * uploaded, read and deleted, one inline batch created and cancelled before it runs). Time passes for real, so
 * `advanceClock` waits. The key is passed to the SDK and sent in a header, never logged or put in a title.
 */
export function createRealApiBackend(apiKey: string): GeminiBackendDefinition {
  return {
    name: 'real Gemini API',
    capabilities: [],
    async start() {
      return {
        client: new GoogleGenAI({ apiKey, apiVersion: 'v1beta' }),
        baseUrl: realApiBaseUrl,
        publicBaseUrl: realApiBaseUrl,
        request: createKeyedRequest({ baseUrl: realApiBaseUrl, apiKey }),
        advanceClock: async (milliseconds) => {
          await sleep(milliseconds);
        },
        reset: async () => undefined,
        stop: async () => undefined,
      };
    },
  };
}
