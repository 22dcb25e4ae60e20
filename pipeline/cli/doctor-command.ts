import { z } from 'zod';
import { loadDoctorConfig } from '../doctor/load-doctor-config.ts';
import { formatDoctorTable, type DoctorReport } from '../doctor/doctor-report.ts';
import { probeCostNotice } from '../doctor/probe-batch-parser.ts';
import { describeConfiguredBackend, runDoctor } from '../doctor/run-doctor.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import type { Logger } from '../../lib/logger.ts';
import { exitCodeFor, exitCodes } from '../../lib/errors.ts';
import { reportFlagProblems } from './report-flag-problems.ts';

const flagsSchema = z
  .object({
    config: z.string().min(1).optional(),
    backend: z.string().optional(),
    mode: z.string().optional(),
    json: z.boolean().optional(),
    probe: z.boolean().optional(),
    yes: z.boolean().optional(),
  })
  .strict();

export interface DoctorCommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  flags: Record<string, unknown>;
  /** Asks yes or no on a terminal; absent when there is none (then --probe needs --yes against a real key). */
  confirm?: (question: string) => Promise<boolean>;
  /** The terminal's width, for the table. */
  columns?: number;
}

function printReport(options: { logger: Logger; report: DoctorReport; json: boolean; columns: number }): void {
  const { logger, report } = options;
  if (options.json) {
    logger.print(JSON.stringify(report));
    return;
  }
  const names: Record<string, string> = { gemini: 'the Gemini API', emulator: 'the built-in emulator', unknown: 'no backend (the config did not load)' };
  logger.print(`chargen doctor: ${names[report.backend] ?? report.backend}`);
  for (const line of formatDoctorTable({ checks: report.checks, width: options.columns })) logger.print(line);
  const failed = report.checks.filter((check) => check.status === 'failed').map((check) => check.name);
  const warned = report.checks.filter((check) => check.status === 'warning').length;
  if (failed.length > 0) logger.print(`Failed: ${failed.join(', ')} (see how to mend each).`);
  else logger.print(`Nothing failed${warned > 0 ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}: chargen run can go ahead.`);
}

/**
 * Before a probe against anything but the built-in emulator: its cost, then a question on a terminal, or --yes
 * elsewhere. Returns the exit code when the probe (and so the command) must not go on, after saying why.
 */
async function confirmProbe(options: DoctorCommandOptions & { config: ChargenConfig; yes: boolean; json: boolean; columns: number }): Promise<number | undefined> {
  const backend = await describeConfiguredBackend(options);
  if (backend === 'emulator') {
    options.logger.info('--probe on the built-in emulator: no cost.');
    return undefined;
  }
  // The probe is the Developer API's: on Vertex AI its item says it was not run, and nothing is spent.
  if (options.config.backend === 'vertex') return undefined;
  options.logger.info(probeCostNotice);
  if (options.yes) return undefined;
  if (!options.confirm) {
    const check = { name: 'probe', status: 'failed' as const, detail: `not run, nothing checked or spent: ${probeCostNotice}`, fix: 'run again with --yes to go ahead (on a terminal chargen doctor --probe asks)' };
    printReport({ ...options, report: { exitCode: exitCodes.usage, backend, checks: [check] } });
    return exitCodes.usage;
  }
  if (await options.confirm('Go on with the probe?')) return undefined;
  options.logger.info('Stopped before checking or spending anything.');
  return exitCodeFor({ status: 'declined' });
}

/** `chargen doctor`: the configured backend checked item by item; exit 0 when nothing failed, 2 when an item did. */
export async function runDoctorCommand(options: DoctorCommandOptions): Promise<number> {
  const { logger } = options;
  const flags = flagsSchema.safeParse(options.flags);
  if (!flags.success) {
    reportFlagProblems(logger, flags.error);
    return exitCodes.usage;
  }
  const json = flags.data.json === true;
  const columns = options.columns ?? 100;
  const loaded = await loadDoctorConfig({ cwd: options.cwd, env: options.env, flags: flags.data });
  if (!loaded.config) {
    printReport({ logger, json, columns, report: { exitCode: exitCodes.usage, backend: 'unknown', checks: [loaded.check] } });
    return exitCodes.usage;
  }
  const probe = flags.data.probe === true;
  if (probe) {
    const stop = await confirmProbe({ ...options, config: loaded.config, yes: flags.data.yes === true, json, columns });
    if (stop !== undefined) return stop;
  }
  const report = await runDoctor({ cwd: options.cwd, env: options.env, logger, config: loaded.config, configCheck: loaded.check, probe });
  printReport({ logger, json, columns, report });
  return report.exitCode;
}
