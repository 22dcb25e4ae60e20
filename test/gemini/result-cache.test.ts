import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countCachedOutcomes, openResultCache, readCachedKeys, readCachedOutcomes } from '../../lib/gemini/result-cache.ts';
import { stateDatabasePath } from '../../lib/store/workspace-layout.ts';

let stateDirectory: string;
const now = () => Date.parse('2026-12-01T00:00:00Z');
const succeeded = (key: string, text = 'ok') => ({ key, status: 'succeeded' as const, response: { candidates: [{ content: { parts: [{ text }] } }] } });

beforeEach(async () => {
  stateDirectory = await mkdtemp(join(tmpdir(), 'chargen-result-cache-'));
});
afterEach(async () => {
  await rm(stateDirectory, { recursive: true, force: true });
});

describe('the result cache in the backend database', () => {
  it('keeps final outcomes by stage and key, commits each as it is put, and drops retryable failures', async () => {
    const cache = await openResultCache({ stateDirectory, stage: 'analyze', now });
    await cache.put(succeeded('a'));
    await cache.put({ key: 'b', status: 'failed', reason: 'blocked', retryable: false });
    await cache.put({ key: 'c', status: 'failed', reason: 'try again', retryable: true });
    // Committed already: a second process reading now sees both, without the writer closing.
    expect(await countCachedOutcomes({ stateDirectory, stage: 'analyze' })).toBe(2);
    expect(cache.get('a')).toEqual(succeeded('a'));
    expect(cache.get('c')).toBeUndefined();
    expect(cache.size()).toBe(2);
    await cache.close();
    const other = await openResultCache({ stateDirectory, stage: 'synthesize', now });
    expect(other.get('a')).toBeUndefined();
    expect(other.size()).toBe(0);
    await other.close();
    expect(await readCachedKeys({ stateDirectory, stage: 'analyze' })).toEqual(new Set(['a', 'b']));
    expect([...(await readCachedOutcomes({ stateDirectory, stage: 'analyze', keys: new Set(['a', 'z']) })).keys()]).toEqual(['a']);
  });

  it('a later answer for a key replaces the earlier (an answer asked again because its image was gone)', async () => {
    const cache = await openResultCache({ stateDirectory, stage: 'synthesize', now });
    await cache.put(succeeded('a', 'first'));
    await cache.put(succeeded('a', 'second'));
    expect(cache.get('a')).toEqual(succeeded('a', 'second'));
    expect(cache.size()).toBe(1);
    await cache.close();
  });

  it('refuses a row that does not match the outcome schema, naming the database', async () => {
    await (await openResultCache({ stateDirectory, stage: 'analyze', now })).close();
    const database = new Database(stateDatabasePath(stateDirectory));
    database.prepare("INSERT INTO outcomes (stage, key, status, outcome) VALUES ('analyze', 'x', 'succeeded', '{\"key\":\"x\"}')").run();
    database.close();
    const cache = await openResultCache({ stateDirectory, stage: 'analyze', now });
    expect(() => cache.get('x')).toThrow(/state\.sqlite: holds an outcome of stage analyze that does not match its schema/);
    await cache.close();
  });

  it('readers see an older chargen\'s result log that no run has moved in yet, and create no database', async () => {
    await mkdir(join(stateDirectory, 'results'), { recursive: true });
    await writeFile(join(stateDirectory, 'results', 'analyze.jsonl'), `${JSON.stringify({ kind: 'chargen-result-cache', version: 1 })}\n${JSON.stringify(succeeded('old'))}\n`);
    expect(await readCachedKeys({ stateDirectory, stage: 'analyze' })).toEqual(new Set(['old']));
    expect(await countCachedOutcomes({ stateDirectory, stage: 'analyze' })).toBe(1);
    expect((await readCachedOutcomes({ stateDirectory, stage: 'analyze', keys: new Set(['old']) })).get('old')).toEqual(succeeded('old'));
    const cache = await openResultCache({ stateDirectory, stage: 'analyze', now });
    expect(cache.get('old')).toEqual(succeeded('old'));
    await cache.close();
  });
});
