import { join } from 'node:path';
import { readImageSidecar } from './image-sidecar.ts';
import { formatEntryId, toBaseName } from './core/plan-output-names.ts';

/** An output chargen placed in a folder earlier, as its sidecar tells: whose it is, and which files are its. */
export interface EarlierOutput {
  baseName: string;
  /** `<source path>#<variant>`, as planOutputNames names entries. */
  entryId: string;
  key: string;
  backend: string | undefined;
  image: { file: string; bytes: number };
  /** Every file of this output: the image, its sidecar, its signature, its thought images. */
  files: string[];
}

/**
 * Finds chargen's own outputs in an output folder by their sidecars: chargen's kind and version, a source path and
 * variant, and an image of the same base name (a sidecar copied under another name is not taken for one). Only these
 * small facts are kept, never the sidecars themselves, so memory stays one line per output.
 */
export async function readEarlierOutputs(options: { outputDirectory: string; fileNames: readonly string[] }): Promise<Map<string, EarlierOutput>> {
  const outputs = new Map<string, EarlierOutput>();
  for (const name of options.fileNames) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const baseName = name.slice(0, -'.json'.length);
    const sidecar = await readImageSidecar(join(options.outputDirectory, name));
    if (!sidecar?.source || toBaseName(sidecar.image.file) !== baseName) continue;
    outputs.set(baseName, {
      baseName,
      entryId: formatEntryId({ sourcePath: sidecar.source.path, variant: sidecar.source.variant, ...(sidecar.source.shot !== undefined ? { shot: sidecar.source.shot } : {}) }),
      key: sidecar.key,
      backend: sidecar.backend,
      image: { file: sidecar.image.file, bytes: sidecar.image.bytes },
      files: [sidecar.image.file, name, ...(sidecar.thoughtSignature ? [sidecar.thoughtSignature.file] : []), ...sidecar.thoughtImages.map((file) => file.file)],
    });
  }
  return outputs;
}
