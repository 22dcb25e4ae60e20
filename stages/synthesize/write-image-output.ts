import { createHash, randomBytes as randomSuffix } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { blobPath } from '../../lib/gemini/blob-file.ts';
import { writeJsonAtomic } from '../../lib/store/atomic-file.ts';
import type { ImageFileInspection } from '../../lib/media/inspect-image-file.ts';
import { inspectImageFile } from '../../lib/media/inspect-image-file.ts';
import type { ImageChoice, ImagePart } from './core/choose-image.ts';
import { imageSidecarSchema, type ImageSidecar } from './image-sidecar.ts';

type GoodInspection = Extract<ImageFileInspection, { ok: true }>;
type ImageFile = ImageSidecar['image'];

export interface WrittenOutput {
  image: string;
  sidecar: string;
  thoughtImages: string[];
}

function insideFolder(folder: string, name: string): string {
  const path = resolve(folder, name);
  // Names are made safe before they get here; this is the last guard against a path leaving the folder.
  if (dirname(path) !== resolve(folder)) throw new Error(`refusing to write "${name}" outside ${folder}`);
  return path;
}

/**
 * A copy of the stored blob, never a link: the store keeps the answer for other folders and later runs, and an output
 * edited in place must change neither it nor another output (two sources with the same bytes share one answer).
 * Where the file system can (btrfs, XFS, APFS), COPYFILE_FICLONE makes the copy a reflink that shares blocks until
 * written; elsewhere it is a plain copy. Then synced, and renamed into place.
 */
async function placeFile(options: { source: string; destination: string }): Promise<void> {
  const temporary = join(dirname(options.destination), `.chargen-${randomSuffix(6).toString('hex')}.tmp`);
  try {
    await copyFile(options.source, temporary, constants.COPYFILE_FICLONE);
    const handle = await open(temporary, 'r+');
    await handle.sync().finally(() => handle.close());
    await rename(temporary, options.destination);
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * The signature as its base64 text (what a later turn sends back as `thoughtSignature`), from the bytes the reader
 * stored; a few megabytes at most, written under a temporary name and renamed.
 */
async function writeSignatureFile(options: { outputDirectory: string; name: string; source: string }): Promise<NonNullable<ImageSidecar['thoughtSignature']>> {
  const text = Buffer.from((await readFile(options.source)).toString('base64'), 'latin1');
  const destination = insideFolder(options.outputDirectory, options.name);
  const temporary = join(options.outputDirectory, `.chargen-${randomSuffix(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, text);
    await rename(temporary, destination);
  } finally {
    await rm(temporary, { force: true });
  }
  return { file: options.name, bytes: text.length, sha256: createHash('sha256').update(text).digest('hex') };
}

function describeFile(options: { file: string; part: ImagePart; inspection: GoodInspection }): ImageFile {
  const { inspection } = options;
  return { file: options.file, mimeType: inspection.mimeType, width: inspection.width, height: inspection.height, bytes: inspection.bytes, sha256: options.part.blob.sha256 };
}

/**
 * Puts one chosen image (and its thought images, when kept) under its final name and then writes its sidecar. The
 * image goes first: a crash in between leaves an image whose sidecar is missing or names another key, which the
 * next run sees as not done and writes again under the same name.
 */
export async function writeImageOutput(options: {
  outputDirectory: string;
  baseName: string;
  blobDirectory: string;
  choice: Extract<ImageChoice, { ok: true }>;
  inspection: GoodInspection;
  keepThoughts: boolean;
  sidecar: Omit<ImageSidecar, 'kind' | 'version' | 'image' | 'thoughtImages'>;
  /** The sidecar this output had before, whose files are removed when the new ones have other names. */
  previous?: ImageSidecar;
}): Promise<WrittenOutput> {
  const { outputDirectory, baseName, choice } = options;
  const imageName = `${baseName}.${options.inspection.extension}`;
  const imagePath = insideFolder(outputDirectory, imageName);
  await placeFile({ source: blobPath({ blobDirectory: options.blobDirectory, blob: choice.image.blob }), destination: imagePath });

  const thoughtFiles: ImageFile[] = [];
  const warnings = [...options.sidecar.warnings];
  if (options.keepThoughts) {
    for (const [index, part] of choice.thoughtImages.entries()) {
      const source = blobPath({ blobDirectory: options.blobDirectory, blob: part.blob });
      const inspection = await inspectImageFile(source);
      if (!inspection.ok) {
        warnings.push(`thought image ${index + 1} not kept: ${inspection.reason}`);
        continue;
      }
      const name = `${baseName}.thought-${index + 1}.${inspection.extension}`;
      await placeFile({ source, destination: insideFolder(outputDirectory, name) });
      thoughtFiles.push(describeFile({ file: name, part, inspection }));
    }
  }

  const signature = choice.image.signature && choice.image.signature.bytes > 0
    ? await writeSignatureFile({ outputDirectory, name: `${baseName}.thought-signature`, source: blobPath({ blobDirectory: options.blobDirectory, blob: choice.image.signature }) })
    : undefined;

  const sidecarPath = insideFolder(outputDirectory, `${baseName}.json`);
  const sidecar: ImageSidecar = imageSidecarSchema.parse({
    kind: 'chargen-image',
    version: 1,
    ...options.sidecar,
    warnings,
    image: describeFile({ file: imageName, part: choice.image, inspection: options.inspection }),
    ...(signature ? { thoughtSignature: signature } : {}),
    thoughtImages: thoughtFiles,
  });
  await writeJsonAtomic(sidecarPath, sidecar);

  const kept = new Set([imageName, ...thoughtFiles.map((file) => file.file), ...(signature ? [signature.file] : [])]);
  for (const old of [options.previous?.image, options.previous?.thoughtSignature, ...(options.previous?.thoughtImages ?? [])]) {
    if (old && !kept.has(old.file)) await rm(insideFolder(outputDirectory, old.file), { force: true });
  }
  return { image: imagePath, sidecar: sidecarPath, thoughtImages: thoughtFiles.map((file) => join(outputDirectory, file.file)) };
}
