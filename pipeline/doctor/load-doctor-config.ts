import { relative } from 'node:path';
import { describeRetiredModel } from '../../schemas/gemini-models.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { readConfigFile, resolveConfig, type ConfigFile, type ConfigFlags } from '../config/load-config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { isRecord } from '../../schemas/is-record.ts';
import type { DoctorCheck } from './doctor-report.ts';

const modelSections = ['analyze', 'compile'] as const;

function readModelIds(value: unknown): Partial<Record<(typeof modelSections)[number], string>> {
  const ids: Partial<Record<(typeof modelSections)[number], string>> = {};
  for (const section of modelSections) {
    const settings = isRecord(value) ? value[section] : undefined;
    if (isRecord(settings) && typeof settings['model'] === 'string') ids[section] = settings['model'];
  }
  return ids;
}

function withoutModels(value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  for (const section of modelSections) {
    const settings = copy[section];
    if (isRecord(settings)) copy[section] = Object.fromEntries(Object.entries(settings).filter(([key]) => key !== 'model'));
  }
  return copy;
}

/** `stopped`: nothing else could be checked without a config. */
function failedCheck(problems: readonly string[], stopped: boolean): DoctorCheck {
  const detail = `${problems.join('; ')}${stopped ? '; nothing else was checked: the other items need a config that loads' : ''}`;
  return { name: 'config', status: 'failed', detail, fix: 'correct each value named (in the config file, or the flag or variable named)' };
}

/**
 * The config for doctor, and the config item. A config refused only for its models (a retired id) still gives the
 * other checks a config: the models as written are then asked of the API, and their item says what to move to,
 * instead of doctor stopping at a config error. `config` is absent when nothing else could be loaded.
 */
export async function loadDoctorConfig(options: { cwd: string; env: NodeJS.ProcessEnv; flags: ConfigFlags & { config?: string } }): Promise<{ config?: ChargenConfig; check: DoctorCheck }> {
  let file: ConfigFile | undefined;
  try {
    file = await readConfigFile({ cwd: options.cwd, ...(options.flags.config ? { path: options.flags.config } : {}) });
  } catch (error) {
    if (error instanceof ConfigError) return { check: failedCheck(error.problems, true) };
    throw error;
  }
  const resolve = (value: unknown) => resolveConfig({ ...(file ? { file: { path: file.path, value } } : {}), env: options.env, flags: options.flags });
  const source = file ? relative(options.cwd, file.path) || file.path : undefined;
  try {
    const config = resolve(file?.value);
    const detail = `${source ? `${source} is valid` : 'no chargen.config.json: the defaults'}; backend ${config.backend}, mode ${config.mode}`;
    return { config, check: { name: 'config', status: 'ok', detail } };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const ids = readModelIds(file?.value);
    if (!file || !isRecord(file.value) || Object.keys(ids).length === 0) return { check: failedCheck(error.problems, true) };
    let stripped: ChargenConfig;
    try {
      stripped = resolve(withoutModels(file.value));
    } catch {
      return { check: failedCheck(error.problems, true) };
    }
    const config: ChargenConfig = {
      ...stripped,
      analyze: { ...stripped.analyze, model: ids.analyze ?? stripped.analyze.model },
      compile: { ...stripped.compile, model: ids.compile ?? stripped.compile.model },
    };
    const retired = Object.values(ids).flatMap((id) => describeRetiredModel(id) ?? []);
    const others = error.problems.filter((problem) => !retired.some((message) => problem.endsWith(message)));
    if (others.length > 0) return { config, check: failedCheck(others, false) };
    return { config, check: { name: 'config', status: 'ok', detail: `${source} loads but for its models, reported below; backend ${config.backend}, mode ${config.mode}` } };
  }
}
