import { parseCheckpointItem, readCheckpointStore, writeCheckpointStore, type CheckpointItem, type CheckpointStore } from '../../lib/store/checkpoint-store.ts';
import { generationPromptSchema, type GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { fingerprintCompile } from './core/fingerprint-compile.ts';

/** The compile stage's checkpoint, whole: `fingerprint` is '' while a run is writing it. */
export interface PromptsCheckpoint {
  /** What the prompts were made from: the records, the templates and the settings. */
  fingerprint: string;
  prompts: GenerationPrompt[];
}

export { fingerprintCompile };

const fix = 'Run `chargen run --only compile` to write it again (it costs nothing).';

export function toPromptItems(prompts: readonly GenerationPrompt[]): CheckpointItem[] {
  return prompts.map((prompt) => ({ kind: 'prompt', sourcePath: prompt.sourceImage.path, variant: prompt.variant, value: prompt }));
}

export async function writePromptsCheckpoint(workspaceDirectory: string, checkpoint: { fingerprint: string; prompts: GenerationPrompt[] }): Promise<void> {
  writeCheckpointStore(workspaceDirectory, (store) => store.replace('compile', { fingerprint: checkpoint.fingerprint, items: toPromptItems(checkpoint.prompts), warnings: [] }));
}

/** The prompts in order of source path and variant, a page at a time, each checked against its schema. */
export function* readPromptPages(store: CheckpointStore): Generator<GenerationPrompt[]> {
  for (const page of store.readPages('compile', 'prompt')) yield page.map((item) => parseCheckpointItem({ path: store.path, stage: 'compile', item, schema: generationPromptSchema, fix }));
}

/** The whole checkpoint in memory, for what needs it whole; a run streams the prompts (readPromptPages). */
export async function readPromptsCheckpoint(workspaceDirectory: string): Promise<PromptsCheckpoint | undefined> {
  return readCheckpointStore(workspaceDirectory, (store) => {
    const state = store.readState('compile');
    return state ? { fingerprint: state.fingerprint ?? '', prompts: [...readPromptPages(store)].flat() } : undefined;
  });
}
