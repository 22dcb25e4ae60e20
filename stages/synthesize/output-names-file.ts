import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../../pipeline/workspace/atomic-file.ts';

const outputNamesSchema = z
  .object({
    kind: z.literal('chargen-output-names'),
    version: z.literal(1),
    /** The output folder these names are for (absolute); another folder starts afresh. */
    outputDirectory: z.string().min(1),
    /** Entry id (`<source path>#<variant>`) → base name, kept from run to run so an output never moves. */
    names: z.record(z.string(), z.string().regex(/^[^/\\\0]+$/)),
  })
  .strict();

function namesPath(workspaceDirectory: string): string {
  return join(workspaceDirectory, 'synthesize', 'names.json');
}

export async function readOutputNames(options: { workspaceDirectory: string; outputDirectory: string }): Promise<Map<string, string>> {
  const file = await readJsonFile(
    namesPath(options.workspaceDirectory),
    outputNamesSchema,
    'It records which output file belongs to which image; delete it and chargen names the outputs again (existing files are then seen as foreign and kept).',
  );
  if (!file || file.outputDirectory !== options.outputDirectory) return new Map();
  return new Map(Object.entries(file.names));
}

export async function writeOutputNames(options: { workspaceDirectory: string; outputDirectory: string; names: ReadonlyMap<string, string> }): Promise<void> {
  const names = Object.fromEntries([...options.names].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)));
  await writeJsonAtomic(namesPath(options.workspaceDirectory), { kind: 'chargen-output-names', version: 1, outputDirectory: options.outputDirectory, names });
}
