import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { faultConfigSchema } from '../../emulator/fault-config.ts';
import { serveEmulator } from '../../emulator/serve-emulator.ts';
import { exitCodes } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { reportFlagProblems } from './report-flag-problems.ts';

const flagsSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  pendingMs: z.coerce.number().int().min(0),
  runningMs: z.coerce.number().int().min(0),
  cancelMs: z.coerce.number().int().min(0).default(500),
  faults: z.string().optional(),
});

/** `chargen emulator`: serve the emulator until asked to stop; returns the exit code. */
export async function runEmulatorCommand(options: {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  flags: Record<string, string | undefined>;
  waitForStop: () => Promise<void>;
}): Promise<number> {
  const { logger } = options;
  const flags = flagsSchema.safeParse(options.flags);
  if (!flags.success) {
    reportFlagProblems(logger, flags.error);
    return exitCodes.usage;
  }
  let faults: unknown = {};
  if (flags.data.faults) {
    const path = resolve(options.cwd, flags.data.faults);
    try {
      faults = JSON.parse(await readFile(path, 'utf8')) as unknown;
    } catch (error) {
      logger.error(`--faults ${path}: cannot read it as JSON (${error instanceof Error ? error.message : String(error)}).`);
      return exitCodes.usage;
    }
  }
  const parsedFaults = faultConfigSchema.safeParse(faults);
  if (!parsedFaults.success) {
    for (const issue of parsedFaults.error.issues) logger.error(`--faults: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return exitCodes.usage;
  }
  // An emulator that should demand one particular key reads it from the environment, never from the command line.
  const requiredKey = options.env['CHARGEN_EMULATOR_API_KEY'];
  let running;
  try {
    running = await serveEmulator({
      host: flags.data.host,
      port: flags.data.port,
      emulator: {
        ...(requiredKey ? { apiKey: requiredKey } : {}),
        latency: { pendingMilliseconds: flags.data.pendingMs, runningMilliseconds: flags.data.runningMs, cancelMilliseconds: flags.data.cancelMs },
        faults: parsedFaults.data,
      },
    });
  } catch (error) {
    logger.error(`cannot listen on ${flags.data.host}:${flags.data.port}: ${error instanceof Error ? error.message : String(error)}`);
    return exitCodes.error;
  }
  logger.print(`chargen emulator: Gemini API (v1beta and v1) at ${running.baseUrl}`);
  logger.print(`Point a client at it: new GoogleGenAI({ apiKey: 'any-key', httpOptions: { baseUrl: '${running.baseUrl}' } })`);
  logger.print(`  or set GOOGLE_GEMINI_BASE_URL=${running.baseUrl} (CHARGEN_BASE_URL=${running.baseUrl} for chargen).`);
  logger.print(`Cloud Storage JSON API on the same port: new Storage({ apiEndpoint: '${running.baseUrl}', projectId: 'any' }) (every bucket exists).`);
  logger.print(`Admin: ${running.baseUrl}/_emulator/stats, /_emulator/faults, /_emulator/reset, /_emulator/clock. Ctrl-C stops it.`);
  await options.waitForStop();
  logger.info('chargen emulator: stopping');
  await running.close();
  return exitCodes.done;
}
