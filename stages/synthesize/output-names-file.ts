import { createHash } from 'node:crypto';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../../lib/store/atomic-file.ts';
import { outputNamesPath, singleOutputNamesPath } from '../../lib/store/workspace-layout.ts';

const outputNamesSchema = z
  .object({
    kind: z.literal('chargen-output-names'),
    version: z.literal(1),
    /** The output folder these names are for (absolute); each folder has its own file. */
    outputDirectory: z.string().min(1),
    /** Entry id (`<source path>#<variant>`) → base name, kept from run to run so an output never moves. */
    names: z.record(z.string(), z.string().regex(/^[^/\\\0]+$/)),
  })
  .strict();

const damagedAdvice = 'It records which output file belongs to which image; delete it and chargen names the outputs again (its own earlier outputs are recognised by their sidecars and kept under their names).';

/**
 * One file per output folder, named by a hash of the folder's path: going to another folder and back finds the names
 * given there, and only the names of the folder in use are read.
 */
function namesPath(options: { workspaceDirectory: string; outputDirectory: string }): string {
  const folderHash = createHash('sha256').update(options.outputDirectory).digest('hex').slice(0, 16);
  return outputNamesPath(options.workspaceDirectory, folderHash);
}

/** Before names were kept per folder: one file, for the last folder used. */
function singleNamesPath(workspaceDirectory: string): string {
  return singleOutputNamesPath(workspaceDirectory);
}

export async function readOutputNames(options: { workspaceDirectory: string; outputDirectory: string }): Promise<Map<string, string>> {
  const file =
    (await readJsonFile(namesPath(options), outputNamesSchema, damagedAdvice)) ??
    (await readJsonFile(singleNamesPath(options.workspaceDirectory), outputNamesSchema, damagedAdvice));
  if (!file || file.outputDirectory !== options.outputDirectory) return new Map();
  return new Map(Object.entries(file.names));
}

export async function writeOutputNames(options: { workspaceDirectory: string; outputDirectory: string; names: ReadonlyMap<string, string> }): Promise<void> {
  const names = Object.fromEntries([...options.names].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)));
  await writeJsonAtomic(namesPath(options), { kind: 'chargen-output-names', version: 1, outputDirectory: options.outputDirectory, names });
}
