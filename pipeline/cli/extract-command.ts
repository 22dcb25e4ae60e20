import { stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { extractResultFile } from '../../stages/synthesize/extract-result-file.ts';
import { createStreamingResultReader } from '../../lib/gemini/stream-result-lines.ts';
import type { Logger } from '../../lib/logger.ts';
import { describeResultFileProblem } from './describe-result-file-problem.ts';
import { exitCodeFor, exitCodes } from '../../lib/errors.ts';

/** `chargen extract <results.jsonl> --out <dir>`: 0 when every line gave an image, 3 when some did not. */
export async function runExtractCommand(options: {
  cwd: string;
  logger: Logger;
  resultFile: string;
  flags: { out?: string; json?: boolean; keepThoughts?: boolean };
}): Promise<number> {
  const { logger } = options;
  if (!options.flags.out) {
    logger.error(`--out is needed: the folder the images go to (created when missing), e.g. chargen extract ${options.resultFile} --out images`);
    return exitCodes.usage;
  }
  const resultFile = resolve(options.cwd, options.resultFile);
  const problem = await describeResultFileProblem({ path: resultFile, given: options.resultFile });
  if (problem) {
    logger.error(problem);
    return exitCodes.usage;
  }
  const outputDirectory = resolve(options.cwd, options.flags.out);
  const out = await stat(outputDirectory).catch(() => undefined);
  if (out && !out.isDirectory()) {
    logger.error(`--out ${options.flags.out}: a file is there, not a folder. Give a folder for the images (it is created when missing).`);
    return exitCodes.usage;
  }
  const result = await extractResultFile({
    resultFile,
    outputDirectory,
    keepThoughts: options.flags.keepThoughts === true,
    createResultReader: (blobDirectory) => createStreamingResultReader({ blobDirectory }),
    logger,
  });
  const exitCode = exitCodeFor({ status: result.failures.length > 0 ? 'dead-lettered' : 'done' });
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
      `extract: ${result.written.length} images written to ${show(outputDirectory)}` +
        (result.failures.length > 0 ? `; ${result.failures.length} lines failed (listed above)` : ''),
    );
  }
  return exitCode;
}
