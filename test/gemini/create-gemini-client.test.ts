import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requireGeminiConnection, resolveGeminiConnection } from '../../lib/gemini/create-gemini-client.ts';
import { MissingApiKeyError } from '../../lib/errors.ts';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'chargen-client-'));
});
afterEach(async () => rm(directory, { recursive: true, force: true }));

describe('resolveGeminiConnection', () => {
  it('prefers GEMINI_API_KEY, then GOOGLE_API_KEY, from the environment before .env', async () => {
    await writeFile(join(directory, '.env'), 'GEMINI_API_KEY=from-file\nCHARGEN_BASE_URL=http://127.0.0.1:9\n');
    expect(await resolveGeminiConnection({ cwd: directory, env: { GOOGLE_API_KEY: 'google', GEMINI_API_KEY: 'gemini' } })).toEqual({
      apiKey: 'gemini',
      baseUrl: 'http://127.0.0.1:9',
    });
    expect((await resolveGeminiConnection({ cwd: directory, env: {} }))?.apiKey).toBe('from-file');
    await rm(join(directory, '.env'));
    expect((await resolveGeminiConnection({ cwd: directory, env: { GOOGLE_API_KEY: 'google' } }))?.apiKey).toBe('google');
  });

  it('says which variable to set and where to get a key when there is none, without touching process.env', async () => {
    const error = await requireGeminiConnection({ cwd: directory, env: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MissingApiKeyError);
    expect((error as Error).message).toContain('GEMINI_API_KEY');
    expect((error as Error).message).toContain('aistudio.google.com/apikey');
  });
});
