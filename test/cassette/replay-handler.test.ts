import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CassetteError } from '../../emulator/cassette/cassette-error.ts';
import { createReplayHandler } from '../../emulator/cassette/create-replay-handler.ts';
import { serveReplayServer, type RunningReplayServer } from '../../emulator/cassette/serve-replay-server.ts';

const emptyBodyHash = `sha256:${createHash('sha256').update('').digest('hex')}`;

function batchPoll(state: string) {
  return {
    request: { method: 'GET', url: '/v1beta/batches/abc', headers: {}, bodyHash: emptyBodyHash, body: { encoding: 'empty' } },
    response: {
      status: 200,
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      body: { encoding: 'json', json: { name: 'batches/abc', metadata: { state } } },
    },
  };
}

function validCassette() {
  return {
    version: 1,
    recordedAgainst: 'http://127.0.0.1:1',
    interactions: [batchPoll('BATCH_STATE_PENDING'), batchPoll('BATCH_STATE_RUNNING'), batchPoll('BATCH_STATE_SUCCEEDED')],
  };
}

let cassetteDirectory: string;
let server: RunningReplayServer | undefined;

beforeEach(async () => {
  cassetteDirectory = await mkdtemp(join(tmpdir(), 'chargen-replay-test-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(cassetteDirectory, { recursive: true, force: true });
});

async function writeCassette(content: unknown): Promise<void> {
  await writeFile(join(cassetteDirectory, 'cassette.json'), typeof content === 'string' ? content : JSON.stringify(content));
}

async function rejectionOf(promise: Promise<unknown>): Promise<CassetteError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(CassetteError);
  return error as CassetteError;
}

describe('replaying repeated requests', () => {
  it('gives the recorded answers in order, then repeats the last, whatever key the client sends', async () => {
    await writeCassette(validCassette());
    server = await serveReplayServer({ cassetteDirectory, port: 0 });
    const states: string[] = [];
    for (let poll = 0; poll < 5; poll += 1) {
      const answer = await fetch(`${server.baseUrl}/v1beta/batches/abc?key=poll-${poll}`);
      expect(answer.headers.get('content-type')).toBe('application/json; charset=UTF-8');
      states.push(((await answer.json()) as { metadata: { state: string } }).metadata.state);
    }
    expect(states).toEqual(['BATCH_STATE_PENDING', 'BATCH_STATE_RUNNING', 'BATCH_STATE_SUCCEEDED', 'BATCH_STATE_SUCCEEDED', 'BATCH_STATE_SUCCEEDED']);
    expect(server.misses()).toEqual([]);
  });

  it('names a miss on a known path with the nearest recorded request', async () => {
    await writeCassette(validCassette());
    server = await serveReplayServer({ cassetteDirectory, port: 0 });
    const answer = await fetch(`${server.baseUrl}/v1beta/batches/abc?key=secret-of-the-client`, { method: 'DELETE', body: '{}' });
    expect(answer.status).toBe(501);
    const body = (await answer.json()) as { error: { code: number; status: string; message: string } };
    expect(body.error).toMatchObject({ code: 501, status: 'UNIMPLEMENTED' });
    expect(body.error.message).toContain('DELETE /v1beta/batches/abc?key=REDACTED body json-sha256:');
    expect(body.error.message).toContain(`the nearest recorded request on that path is GET /v1beta/batches/abc body ${emptyBodyHash}`);
    expect(body.error.message).not.toContain('secret-of-the-client');
    expect(server.misses()).toHaveLength(1);
  });
});

describe('reading a cassette', () => {
  it('names the file and the field when a field is wrong', async () => {
    const cassette = validCassette();
    (cassette.interactions[1]?.response as { status: unknown }).status = '200';
    await writeCassette(cassette);
    const error = await rejectionOf(createReplayHandler({ cassetteDirectory }));
    expect(error.message).toContain(join(cassetteDirectory, 'cassette.json'));
    expect(error.message).toContain('interactions.1.response.status');
  });

  it('refuses a cassette of another version', async () => {
    await writeCassette({ ...validCassette(), version: 2 });
    const error = await rejectionOf(createReplayHandler({ cassetteDirectory }));
    expect(error.message).toMatch(/cassette\.json: does not match the cassette schema \(version: /);
  });

  it('names a body encoding it does not know', async () => {
    const cassette = validCassette();
    (cassette.interactions[0]?.request as { body: unknown }).body = { encoding: 'gzip', data: '' };
    await writeCassette(cassette);
    const error = await rejectionOf(createReplayHandler({ cassetteDirectory }));
    expect(error.message).toContain('interactions.0.request.body.encoding');
  });

  it('says so when the file is not JSON (a cut-off write)', async () => {
    await writeCassette(JSON.stringify(validCassette()).slice(0, 120));
    const error = await rejectionOf(createReplayHandler({ cassetteDirectory }));
    expect(error.message).toContain('cassette.json: is not valid JSON');
  });

  it('says so when there is no cassette', async () => {
    const error = await rejectionOf(serveReplayServer({ cassetteDirectory, port: 0 }));
    expect(error.message).toContain(`${join(cassetteDirectory, 'cassette.json')}: does not exist`);
  });

  it('names a body file that is missing or the wrong size', async () => {
    const bytes = Buffer.alloc(70 * 1024, 7);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const cassette = validCassette();
    (cassette.interactions[2]?.response as { body: unknown }).body = { encoding: 'file', sha256, bytes: bytes.length };
    await writeCassette(cassette);
    const missing = await rejectionOf(createReplayHandler({ cassetteDirectory }));
    expect(missing.message).toContain(`interactions.2.response.body refers to ${join(cassetteDirectory, 'bodies', sha256)}, which is missing`);

    await mkdir(join(cassetteDirectory, 'bodies'));
    await writeFile(join(cassetteDirectory, 'bodies', sha256), bytes.subarray(1));
    const short = await rejectionOf(createReplayHandler({ cassetteDirectory }));
    expect(short.message).toContain(`says ${bytes.length} bytes`);
  });
});
