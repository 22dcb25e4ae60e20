import { stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { extractResultFile } from '../../stages/synthesize/extract-result-file.ts';
import { createStreamingResultReader } from '../gemini/stream-result-lines.ts';
import type { Logger } from '../logger.ts';
import { exitCodes } from './exit-codes.ts';

/** `chargen extract <results.jsonl> --out <dir>`: 0 when every line gave an image, 3 when some did not. */
export async function runExtractCommand(options: {
  cwd: string;
  logger: Logger;
  resultFile: string;
  flags: { out: string; json?: boolean; keepThoughts?: boolean };
}): Promise<number> {
  const { logger } = options;
  const resultFile = resolve(options.cwd, options.resultFile);
  const found = await stat(resultFile).catch(() => undefined);
  if (!found?.isFile()) {
    logger.error(`${options.resultFile}: no such file. Give the path of a batch result file (JSONL), e.g. one downloaded from AI Studio.`);
    return exitCodes.usage;
  }
  const out = await stat(resolve(options.cwd, options.flags.out)).catch(() => undefined);
  if (out && !out.isDirectory()) {
    logger.error(`--out ${options.flags.out}: a file is there, not a folder. Give a folder for the images (it is created when missing).`);
    return exitCodes.usage;
  }
  const result = await extractResultFile({
    resultFile,
    outputDirectory: resolve(options.cwd, options.flags.out),
    keepThoughts: options.flags.keepThoughts === true,
    createResultReader: (blobDirectory) => createStreamingResultReader({ blobDirectory }),
    logger,
  });
  const exitCode = result.failures.length > 0 ? exitCodes.deadLettered : exitCodes.done;
  const show = (path: string) => relative(options.cwd, path) || '.';
  if (options.flags.json) {
    logger.print(
      JSON.stringify({
        exitCode,
        written: result.written.map((entry) => ({ key: entry.key, line: entry.line, image: show(entry.image), sidecar: show(entry.sidecar) })),
        failures: result.failures,
      }),
    );
  } else {
    logger.print(
      `extract: ${result.written.length} images written to ${show(resolve(options.cwd, options.flags.out))}` +
        (result.failures.length > 0 ? `; ${result.failures.length} lines failed (listed above)` : ''),
    );
  }
  return exitCode;
}
