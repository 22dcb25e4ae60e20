import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../../lib/errors.ts';
import { isRecord } from '../../schemas/is-record.ts';
import { chargenConfigSchema, type ChargenConfig } from '../../schemas/chargen-config.ts';

export const defaultConfigFile = 'chargen.config.json';

/** Top-level keys that an environment variable may set, and how its text becomes a value. */
const environmentKeys: Record<string, { variable: string; parse: (text: string) => unknown }> = {
  input: { variable: 'CHARGEN_INPUT', parse: (text) => text },
  out: { variable: 'CHARGEN_OUT', parse: (text) => text },
  workdir: { variable: 'CHARGEN_WORKDIR', parse: (text) => text },
  backend: { variable: 'CHARGEN_BACKEND', parse: (text) => text },
  mode: { variable: 'CHARGEN_MODE', parse: (text) => text },
  confirmAboveUsd: { variable: 'CHARGEN_CONFIRM_ABOVE_USD', parse: (text) => (text.trim() === '' ? text : Number(text)) },
};

export interface ConfigFlags {
  input?: string;
  out?: string;
  workdir?: string;
  backend?: string;
  mode?: string;
  pollInterval?: string;
}

export interface ConfigFile {
  path: string;
  value: unknown;
}

/** Reads the config file: the one named (which must exist), or `chargen.config.json` when there is one. */
export async function readConfigFile(options: { cwd: string; path?: string }): Promise<ConfigFile | undefined> {
  const path = resolve(options.cwd, options.path ?? defaultConfigFile);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && options.path === undefined) return undefined;
    throw new ConfigError({ problems: [`${path}: cannot be read (${(error as Error).message}); check the --config path`], cause: error });
  }
  try {
    return { path, value: JSON.parse(text) as unknown };
  } catch (error) {
    throw new ConfigError({ problems: [`${path}: not valid JSON (${(error as Error).message})`], cause: error });
  }
}

/** The config's own paths, as the file gives them: a relative one is read from the file's folder, wherever chargen runs. */
function rebaseFilePaths(file: { path: string; value: Record<string, unknown> }): Record<string, unknown> {
  const rebase = (value: unknown) => (typeof value === 'string' && value !== '' && !isAbsolute(value) ? join(dirname(file.path), value) : value);
  const rebased: Record<string, unknown> = { ...file.value };
  for (const key of ['input', 'out', 'workdir']) if (key in rebased) rebased[key] = rebase(rebased[key]);
  const compile = rebased['compile'];
  if (isRecord(compile) && 'templateDirectory' in compile) rebased['compile'] = { ...compile, templateDirectory: rebase(compile['templateDirectory']) };
  return rebased;
}

/**
 * Pure: defaults < file < environment < flags, validated as a whole, every problem reported at once and named by
 * where the value came from (`--mode`, `CHARGEN_MODE`, or `chargen.config.json: compile.imageConfig.imageSize`).
 * Paths from the file are read from its folder; paths from flags and the environment from the working directory.
 */
export function resolveConfig(options: { file?: ConfigFile; env: NodeJS.ProcessEnv; flags: ConfigFlags }): ChargenConfig {
  const problems: string[] = [];
  if (options.file && !isRecord(options.file.value)) {
    throw new ConfigError({ problems: [`${options.file.path}: expected a JSON object, like {"compile": {"variants": 2}}`] });
  }
  const merged: Record<string, unknown> = options.file ? rebaseFilePaths({ path: options.file.path, value: options.file.value as Record<string, unknown> }) : {};
  const sources = new Map<string, string>();
  for (const [key, { variable, parse }] of Object.entries(environmentKeys)) {
    const text = options.env[variable];
    if (text === undefined) continue;
    merged[key] = parse(text);
    sources.set(key, variable);
  }
  const flagKeys = ['input', 'out', 'workdir', 'backend', 'mode'] as const;
  for (const key of flagKeys) {
    const value = options.flags[key];
    if (value === undefined) continue;
    merged[key] = value;
    sources.set(key, `--${key}`);
  }
  if (options.flags.pollInterval !== undefined) {
    const milliseconds = Number(options.flags.pollInterval);
    if (!Number.isInteger(milliseconds) || milliseconds < 1) {
      problems.push(`--poll-interval: expected a whole number of milliseconds, got "${options.flags.pollInterval}"`);
    } else {
      const gemini = isRecord(merged['gemini']) ? merged['gemini'] : {};
      merged['gemini'] = { ...gemini, pollInitialMilliseconds: milliseconds, pollMaxMilliseconds: milliseconds };
    }
  }
  const parsed = chargenConfigSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String);
      const top = path[0] ?? '';
      const source = sources.get(top) ?? (options.file ? `${options.file.path}: ${path.join('.') || '(top level)'}` : path.join('.'));
      problems.push(`${source}: ${issue.message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError({ problems });
  return parsed.data as ChargenConfig;
}
