import { ApiError, GoogleGenAI } from '@google/genai';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cassetteSchema } from '../../emulator/cassette/cassette-schema.ts';
import { serveRecordingProxy } from '../../emulator/cassette/serve-recording-proxy.ts';

const secret = 'fakeKeyRecorderSecret-5b1d';

let cassetteDirectory: string;
beforeEach(async () => {
  cassetteDirectory = await mkdtemp(join(tmpdir(), 'chargen-recording-test-'));
});
afterEach(async () => {
  await rm(cassetteDirectory, { recursive: true, force: true });
});

async function readCassetteFile() {
  return cassetteSchema.parse(JSON.parse(await readFile(join(cassetteDirectory, 'cassette.json'), 'utf8')));
}

describe('the recording proxy', () => {
  it('relays the upstream’s bytes, and records a redacted copy of a large body beside the cassette', async () => {
    const forwarded: { url: string; headers: Headers }[] = [];
    // A body of several chunks, the key split across two of them, large enough to be spilled to disk.
    const pieces = [`{"padding":"${'x'.repeat(70 * 1024)}","echo":"fakeKeyRecorder`, `Secret-5b1d"}`];
    const fakeFetch: typeof fetch = async (input, init) => {
      forwarded.push({ url: String(input), headers: new Headers(init?.headers) });
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const piece of pieces) controller.enqueue(new TextEncoder().encode(piece));
          controller.close();
        },
      });
      return new Response(stream, { status: 200, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-other': 'kept' } });
    };
    const proxy = await serveRecordingProxy({ upstreamBaseUrl: 'https://upstream.example/', apiKey: secret, cassetteDirectory, fetch: fakeFetch, port: 0 });
    try {
      const answer = await fetch(`${proxy.baseUrl}/v1beta/files/abc?key=client-key&pageSize=2`, { headers: { 'x-goog-api-key': 'client-key' } });
      expect(answer.headers.get('content-encoding')).toBeNull();
      expect(answer.headers.get('x-other')).toBe('kept');
      expect(await answer.text()).toBe(pieces.join(''));
    } finally {
      await proxy.close();
    }
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]?.url).toBe('https://upstream.example/v1beta/files/abc?pageSize=2');
    expect(forwarded[0]?.headers.get('x-goog-api-key')).toBe(secret);

    const cassette = await readCassetteFile();
    expect(cassette.recordedAgainst).toBe('https://upstream.example');
    const body = cassette.interactions[0]?.response.body;
    expect(body?.encoding).toBe('file');
    const stored = await readFile(join(cassetteDirectory, 'bodies', body?.encoding === 'file' ? body.sha256 : 'none'), 'utf8');
    expect(stored).toBe(pieces.join('').replace(secret, 'REDACTED'));
    expect(cassette.interactions[0]?.response.headers).toEqual({ 'content-type': 'application/json' });
    expect(await readdir(join(cassetteDirectory, 'bodies'))).toHaveLength(1);
  });

  it('streams a body to the client before the upstream has finished sending it', async () => {
    let releaseRest: () => void = () => undefined;
    const restReleased = new Promise<void>((resolve) => {
      releaseRest = resolve;
    });
    const fakeFetch: typeof fetch = async () => {
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          // The second half waits until the client has read the first: a proxy that buffered would hang here.
          if (sent === 1) await restReleased;
          if (sent === 2) return controller.close();
          controller.enqueue(new Uint8Array(100 * 1024).fill(sent + 1));
          sent += 1;
        },
      });
      return new Response(stream, { status: 200, headers: { 'content-type': 'application/octet-stream' } });
    };
    const proxy = await serveRecordingProxy({ upstreamBaseUrl: 'https://upstream.example', apiKey: secret, cassetteDirectory, fetch: fakeFetch, port: 0 });
    try {
      const answer = await fetch(`${proxy.baseUrl}/download/v1beta/files/batch-x:download?alt=media`);
      const reader = answer.body?.getReader();
      let received = 0;
      while (reader !== undefined) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.length;
        if (received >= 100 * 1024) releaseRest();
      }
      expect(received).toBe(200 * 1024);
    } finally {
      await proxy.close();
    }
    expect((await readCassetteFile()).interactions[0]?.response.body).toMatchObject({ encoding: 'file', bytes: 200 * 1024 });
  });

  it('moves a redirect’s Location, relative or not, onto the proxy without any key, and relays the next request to it', async () => {
    const forwarded: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      forwarded.push(String(input));
      if (String(input).includes('/download/')) return new Response('{"key":"k1"}\n', { status: 200, headers: { 'content-type': 'application/octet-stream' } });
      return new Response('{"error":{"code":302}}', { status: 302, headers: { 'content-type': 'application/json', location: '/download/v1beta/files/batch-x:download?alt=media&key=leak' } });
    };
    const proxy = await serveRecordingProxy({ upstreamBaseUrl: 'https://upstream.example', apiKey: secret, cassetteDirectory, fetch: fakeFetch, port: 0 });
    try {
      const redirect = await fetch(`${proxy.baseUrl}/v1beta/files/batch-x:download?alt=media`, { redirect: 'manual' });
      expect(redirect.status).toBe(302);
      expect(redirect.headers.get('location')).toBe(`${proxy.baseUrl}/download/v1beta/files/batch-x:download?alt=media`);
      const followed = await fetch(`${proxy.baseUrl}/v1beta/files/batch-x:download?alt=media`);
      expect(await followed.text()).toBe('{"key":"k1"}\n');
    } finally {
      await proxy.close();
    }
    // Upstream, the next request goes to the URL exactly as handed out (a signed URL must stay whole).
    expect(forwarded.at(-1)).toBe('https://upstream.example/download/v1beta/files/batch-x:download?alt=media&key=leak');
    const cassette = await readCassetteFile();
    expect(cassette.interactions[0]?.response.headers['location']).toBe('{baseUrl}/download/v1beta/files/batch-x:download?alt=media');
  });

  it('answers 502 naming the request when the upstream cannot be reached, and records nothing for it', async () => {
    const proxy = await serveRecordingProxy({ upstreamBaseUrl: 'http://127.0.0.1:1', apiKey: secret, cassetteDirectory, fetch, port: 0 });
    try {
      const client = new GoogleGenAI({ apiKey: 'client-key', apiVersion: 'v1beta', httpOptions: { baseUrl: proxy.baseUrl } });
      const error = await client.files.get({ name: 'files/abc' }).then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(502);
      expect((error as ApiError).message).toContain('could not relay GET /v1beta/files/abc to http://127.0.0.1:1');
    } finally {
      await proxy.close();
    }
    expect((await readCassetteFile()).interactions).toEqual([]);
  });
});
