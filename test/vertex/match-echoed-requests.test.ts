import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addKeyLabels } from '../../lib/gemini/request-key-labels.ts';
import { readEchoMatcher } from '../../lib/vertex/match-echoed-requests.ts';

const key = 'ab'.repeat(32);
const request = { contents: [{ role: 'user', parts: [{ text: 'a knight' }] }], labels: { team: 'art' } };

describe('readEchoMatcher', () => {
  const directories: string[] = [];
  afterAll(async () => {
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
  });

  it('finds a key by the echoed request without its key labels, keeping the other labels in the match', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'chargen-echo-'));
    directories.push(directory);
    const path = join(directory, 'requests.jsonl');
    await writeFile(path, `${JSON.stringify({ request: addKeyLabels({ key, request }) })}\nnot json\n`);
    const match = await readEchoMatcher(path);
    expect(match(request)).toBe(key);
    expect(match({ ...request, labels: {} })).toBeUndefined();
    expect(match({ contents: [] })).toBeUndefined();
  });

  it('matches nothing, and does not throw, when the request file is gone', async () => {
    const match = await readEchoMatcher(join(tmpdir(), 'chargen-no-such-folder', 'requests.jsonl'));
    expect(match(request)).toBeUndefined();
  });
});
