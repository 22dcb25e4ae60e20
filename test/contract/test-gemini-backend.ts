import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineBatchCases } from './cases/batch-cases.ts';
import { defineBatchInputCases } from './cases/batch-input-cases.ts';
import { defineFilesCases } from './cases/files-cases.ts';
import { defineGenerateCases } from './cases/generate-cases.ts';
import { defineModelsCases } from './cases/models-cases.ts';
import { backendCapabilities, type BackendCapability, type GeminiBackend, type GeminiBackendDefinition } from './gemini-backend.ts';

/** Registers one contract case: run where the backend has everything it needs, skipped with the reason elsewhere. */
export type DefineContractCase = (title: string, needs: readonly BackendCapability[], run: (backend: GeminiBackend) => Promise<void>) => void;

/** Every area of the contract, in the order the suite runs them (a replay depends on the order being the recording's). */
const contractAreas: ((contractCase: DefineContractCase) => void)[] = [defineFilesCases, defineBatchCases, defineBatchInputCases, defineGenerateCases, defineModelsCases];

function describeMissing(missing: readonly BackendCapability[]): string {
  return missing.map((capability) => `${capability} (${backendCapabilities[capability]})`).join(', ');
}

/**
 * The contract every Gemini backend keeps (unstorage's `testDriver`, for Gemini): the same cases, through the real
 * SDK over HTTP, against the emulator, a cassette recorded from it and replayed, and the real API when a key is
 * given. What only the emulator has (faults, admin endpoints, its front-end switches, its limits) stays in
 * test/emulator/.
 */
export function testGeminiBackend(options: GeminiBackendDefinition & { skipReason?: string; timeoutMilliseconds?: number }): void {
  const title = options.skipReason ? `Gemini backend: ${options.name} (skipped: ${options.skipReason})` : `Gemini backend: ${options.name}`;
  describe.skipIf(options.skipReason !== undefined)(title, () => {
    let backend: GeminiBackend | undefined;
    let missesChecked = 0;
    beforeAll(async () => {
      backend = await options.start();
    }, options.timeoutMilliseconds);
    afterAll(async () => backend?.stop());
    afterEach(async () => {
      if (!backend) return;
      const misses = backend.misses?.() ?? [];
      const newMisses = misses.slice(missesChecked);
      missesChecked = misses.length;
      await backend.reset();
      expect(newMisses, `requests ${options.name} had no answer for`).toEqual([]);
    });

    const contractCase: DefineContractCase = (caseTitle, needs, run) => {
      const missing = needs.filter((need) => !options.capabilities.includes(need));
      if (missing.length > 0) {
        it.skip(`${caseTitle} [skipped on ${options.name}, which lacks: ${describeMissing(missing)}]`, () => undefined);
        return;
      }
      it(caseTitle, async () => {
        if (!backend) throw new Error(`${options.name} did not start`);
        await run(backend);
      }, options.timeoutMilliseconds);
    };
    for (const defineArea of contractAreas) defineArea(contractCase);
  });
}
