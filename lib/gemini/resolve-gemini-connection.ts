import { parse as parseDotenv } from 'dotenv';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MissingApiKeyError } from '../errors.ts';

export interface GeminiConnection {
  apiKey: string;
  /** Set when CHARGEN_BASE_URL points the SDK somewhere other than Google (the emulator, a proxy). */
  baseUrl?: string;
}

async function readDotenv(cwd: string): Promise<Record<string, string>> {
  try {
    return parseDotenv(await readFile(join(cwd, '.env')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/** One setting from the environment, else from `.env` in `cwd` (read, never loaded into process.env); empty is unset. */
export async function readConnectionSetting(options: { cwd: string; env: NodeJS.ProcessEnv; name: string }): Promise<string | undefined> {
  return options.env[options.name] || (await readDotenv(options.cwd))[options.name] || undefined;
}

/**
 * Finds the key and endpoint: the environment first, then `.env` in `cwd` (read, never loaded into process.env, so
 * the key goes nowhere else). GEMINI_API_KEY wins over GOOGLE_API_KEY.
 */
export async function resolveGeminiConnection(options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<GeminiConnection | undefined> {
  const fromFile = await readDotenv(options.cwd);
  const pick = (name: string) => options.env[name] || fromFile[name] || undefined;
  const apiKey = pick('GEMINI_API_KEY') ?? pick('GOOGLE_API_KEY');
  if (!apiKey) return undefined;
  const baseUrl = pick('CHARGEN_BASE_URL');
  return { apiKey, ...(baseUrl ? { baseUrl } : {}) };
}

export async function requireGeminiConnection(options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<GeminiConnection> {
  const connection = await resolveGeminiConnection(options);
  if (!connection) throw new MissingApiKeyError();
  return connection;
}
