import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeJsonAtomic } from '../../lib/store/atomic-file.ts';
import { imageSidecarSchema, readImageSidecar, type ImageSidecar } from '../../stages/synthesize/image-sidecar.ts';
import { formatEntryId } from '../../stages/synthesize/core/plan-output-names.ts';

/** The entry id a sidecar's image belongs to, as planOutputNames names entries. */
export function entryOfSidecar(sidecar: ImageSidecar): string | undefined {
  if (!sidecar.source) return undefined;
  return formatEntryId({ sourcePath: sidecar.source.path, variant: sidecar.source.variant, ...(sidecar.source.shot !== undefined ? { shot: sidecar.source.shot } : {}) });
}

/** Every file of an output, as its sidecar lists them. */
export function listSidecarFiles(sidecar: ImageSidecar): string[] {
  return [sidecar.image.file, ...(sidecar.thoughtSignature ? [sidecar.thoughtSignature.file] : []), ...sidecar.thoughtImages.map((file) => file.file)];
}

async function copyInto(source: string, destination: string): Promise<void> {
  const temporary = join(dirname(destination), `.chargen-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await copyFile(source, temporary, constants.COPYFILE_FICLONE);
    await rename(temporary, destination);
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * An image of one folder copied into another under a new base name, with its signature, thought images and a sidecar
 * naming the new files: how an output is kept as a version, and how a chosen version is placed in the output folder.
 * The sidecar goes last, so a crash in between leaves an image the next copy overwrites.
 */
export async function copyOutputFiles(options: { from: string; sidecar: ImageSidecar; to: string; baseName: string }): Promise<{ image: string; sidecar: string; copied: ImageSidecar }> {
  const { sidecar, baseName } = options;
  await mkdir(options.to, { recursive: true });
  const extension = (file: string) => /\.[^.]+$/.exec(file)?.[0] ?? '';
  const image = `${baseName}${extension(sidecar.image.file)}`;
  await copyInto(join(options.from, sidecar.image.file), join(options.to, image));
  const thoughtImages = [];
  for (const [index, thought] of sidecar.thoughtImages.entries()) {
    const name = `${baseName}.thought-${index + 1}${extension(thought.file)}`;
    await copyInto(join(options.from, thought.file), join(options.to, name));
    thoughtImages.push({ ...thought, file: name });
  }
  const signature = sidecar.thoughtSignature ? { ...sidecar.thoughtSignature, file: `${baseName}.thought-signature` } : undefined;
  if (sidecar.thoughtSignature && signature) await copyInto(join(options.from, sidecar.thoughtSignature.file), join(options.to, signature.file));
  const { thoughtSignature: _signature, ...rest } = sidecar;
  const copied = imageSidecarSchema.parse({ ...rest, image: { ...sidecar.image, file: image }, thoughtImages, ...(signature ? { thoughtSignature: signature } : {}) });
  const sidecarName = `${baseName}.json`;
  await writeJsonAtomic(join(options.to, sidecarName), copied);
  return { image, sidecar: sidecarName, copied };
}

/**
 * chargen's output of an entry in a folder, when it is there as chargen wrote it: its sidecar names the entry and its
 * image has the bytes the sidecar says. An image changed by hand is nobody's to copy or replace.
 */
export async function readPlacedOutput(options: { folder: string; baseName: string; entry: string }): Promise<{ sidecar: ImageSidecar; edited: boolean } | undefined> {
  const sidecar = await readImageSidecar(join(options.folder, `${options.baseName}.json`));
  if (!sidecar || entryOfSidecar(sidecar) !== options.entry) return undefined;
  const size = (await stat(join(options.folder, sidecar.image.file)).catch(() => undefined))?.size;
  if (size === undefined) return undefined;
  return { sidecar, edited: size !== sidecar.image.bytes };
}
