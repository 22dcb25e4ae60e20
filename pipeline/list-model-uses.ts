import type { ChargenConfig } from '../schemas/chargen-config.ts';
import type { ModelUse } from '../lib/gemini/check-models.ts';
import type { StageName } from '../stages/stage-step.ts';

/** Pure: the models the selected stages call, with the method (batch or sync) and the config key naming each. */
export function listModelUses(options: { config: ChargenConfig; stages: readonly StageName[] }): ModelUse[] {
  const method = options.config.mode === 'sync' ? 'generateContent' : 'batchGenerateContent';
  const uses: ModelUse[] = [];
  if (options.stages.includes('analyze')) uses.push({ model: options.config.analyze.model, method, setting: 'analyze.model' });
  if (options.stages.includes('synthesize')) uses.push({ model: options.config.compile.model, method, setting: 'compile.model' });
  return uses;
}
