import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { blobPath } from '../../lib/gemini/blob-file.ts';
import { describeLineError, inspectResponse } from '../../lib/gemini/line-outcome.ts';
import type { ResultLine, ResultLineReader } from '../../lib/gemini/read-result-lines.ts';
import type { Logger } from '../../lib/logger.ts';
import { inspectImageFile } from '../../lib/media/inspect-image-file.ts';
import { chooseImage } from './core/choose-image.ts';
import { readImageSidecar } from './image-sidecar.ts';
import { toBaseName, toSafeName } from './core/plan-output-names.ts';
import { writeImageOutput } from './write-image-output.ts';

export interface ExtractedImage {
  key: string;
  line: number | undefined;
  image: string;
  sidecar: string;
}

export interface ExtractFailure {
  line: number | undefined;
  key: string | undefined;
  reason: string;
}

export interface ExtractResult {
  written: ExtractedImage[];
  failures: ExtractFailure[];
}

interface ExtractOptions {
  resultFile: string;
  outputDirectory: string;
  keepThoughts: boolean;
  createResultReader: (blobDirectory: string) => ResultLineReader;
  logger: Logger;
}

/** What one extract keeps between lines: the folders, the names taken and given, the keys seen, the result. */
interface ExtractRun {
  options: ExtractOptions;
  outputDirectory: string;
  blobDirectory: string;
  /** Base names of the files already in the output folder, and those given in this extract (lowercase). */
  taken: Set<string>;
  used: Set<string>;
  seenKeys: Map<string, number | undefined>;
  result: ExtractResult;
  fail: (failure: ExtractFailure) => void;
}

/**
 * `chargen extract`: the image stage's reader on any batch result file (one downloaded from AI Studio, say). Each
 * line's final image goes to the output folder under a name made from its key (made safe: a key is never a path),
 * with a sidecar; a line that cannot give an image is a failure with its line number and reason.
 */
export async function extractResultFile(options: ExtractOptions): Promise<ExtractResult> {
  const outputDirectory = resolve(options.outputDirectory);
  await mkdir(outputDirectory, { recursive: true });
  // Inside the output folder, so that placing an image is a rename on one file system.
  const blobDirectory = join(outputDirectory, `.chargen-extract-${randomBytes(6).toString('hex')}`);
  const result: ExtractResult = { written: [], failures: [] };
  const run: ExtractRun = {
    options,
    outputDirectory,
    blobDirectory,
    taken: new Set((await readdir(outputDirectory)).map((name) => toBaseName(name).toLowerCase())),
    used: new Set(),
    seenKeys: new Map(),
    result,
    fail: (failure) => {
      result.failures.push(failure);
      options.logger.warn(`${options.resultFile}${failure.line !== undefined ? ` line ${failure.line}` : ''}${failure.key !== undefined ? ` (key ${JSON.stringify(failure.key.slice(0, 80))})` : ''}: ${failure.reason}`);
    },
  };
  try {
    for await (const line of options.createResultReader(blobDirectory)(resolve(options.resultFile))) {
      await extractLine(run, line);
      // Each line's blobs are placed or dropped before the next is read: the folder never holds more than one line's.
      for (const name of await readdir(blobDirectory).catch(() => [] as string[])) await rm(join(blobDirectory, name), { force: true });
    }
  } finally {
    await rm(blobDirectory, { recursive: true, force: true });
  }
  return result;
}

/** A name made from the key, free in the folder (or this key's own from an earlier extract). */
async function chooseName(run: ExtractRun, key: string): Promise<string> {
  const base = toSafeName(key, 80);
  for (let attempt = 0; ; attempt += 1) {
    const name = attempt === 0 ? base : `${base}-${createHash('sha256').update(`${key}#${attempt}`).digest('hex').slice(0, 8)}`;
    if (run.used.has(name.toLowerCase())) continue;
    // A name from an earlier extract of the same key is this output's own; any other file is someone else's.
    const ownEarlier = (await readImageSidecar(join(run.outputDirectory, `${name}.json`)))?.key === key;
    if (ownEarlier || !run.taken.has(name.toLowerCase())) {
      run.used.add(name.toLowerCase());
      return name;
    }
  }
}

async function extractLine(run: ExtractRun, line: ResultLine): Promise<void> {
  const { fail, blobDirectory } = run;
  if (line.kind === 'unreadable') {
    fail({ line: line.lineNumber, key: line.key, reason: line.problem });
    return;
  }
  if (run.seenKeys.has(line.key)) {
    const first = run.seenKeys.get(line.key);
    fail({ line: line.lineNumber, key: line.key, reason: `the key appeared before${first !== undefined ? ` on line ${first}` : ''}; this line is skipped` });
    return;
  }
  run.seenKeys.set(line.key, line.lineNumber);
  if (line.kind === 'error') {
    fail({ line: line.lineNumber, key: line.key, reason: describeLineError(line.error).reason });
    return;
  }
  const verdict = inspectResponse(line.response);
  const choice = verdict.ok ? chooseImage(line.response) : verdict;
  if (!choice.ok) {
    fail({ line: line.lineNumber, key: line.key, reason: choice.reason });
    return;
  }
  const inspection = await inspectImageFile(blobPath({ blobDirectory, blob: choice.image.blob }));
  if (!inspection.ok) {
    fail({ line: line.lineNumber, key: line.key, reason: `image part ${choice.image.index} is not a usable image: ${inspection.reason}` });
    return;
  }
  const usage = line.response['usageMetadata'];
  const modelVersion = line.response['modelVersion'];
  const resultFile = resolve(run.options.resultFile);
  const written = await writeImageOutput({
    outputDirectory: run.outputDirectory,
    baseName: await chooseName(run, line.key),
    blobDirectory,
    choice,
    inspection,
    keepThoughts: run.options.keepThoughts,
    sidecar: {
      key: line.key,
      ...(line.lineNumber !== undefined ? { resultFile: { path: resultFile, line: line.lineNumber } } : {}),
      ...(typeof modelVersion === 'string' ? { model: modelVersion } : {}),
      finishReason: choice.finishReason,
      ...(typeof usage === 'object' && usage !== null && !Array.isArray(usage) ? { usage: usage as Record<string, unknown> } : {}),
      textParts: choice.textParts,
      warnings: choice.onlyThoughts ? ['the response had only thought-flagged images; the last of them was kept'] : [],
    },
  });
  run.result.written.push({ key: line.key, line: line.lineNumber, image: written.image, sidecar: written.sidecar });
}
