import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { baseUrlPlaceholder, type RecordedBody, type RecordedResponse } from './cassette-schema.ts';

function decodeInlineBody(body: Exclude<RecordedBody, { encoding: 'file' }>): Buffer {
  switch (body.encoding) {
    case 'empty':
      return Buffer.alloc(0);
    case 'json':
      return Buffer.from(JSON.stringify(body.json), 'utf8');
    case 'text':
      return Buffer.from(body.text, 'utf8');
    case 'base64':
      return Buffer.from(body.base64, 'base64');
  }
}

/** Sends a recorded answer; large bodies are streamed from `bodies/`, and upload URLs lead back to `origin`. */
export async function writeRecordedResponse(options: {
  response: ServerResponse;
  recorded: RecordedResponse;
  bodiesDirectory: string;
  origin: string;
}): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.recorded.headers)) {
    headers[name] = value.split(baseUrlPlaceholder).join(options.origin);
  }
  const body = options.recorded.body;
  if (body.encoding === 'file') {
    headers['content-length'] = String(body.bytes);
    options.response.writeHead(options.recorded.status, headers);
    await pipeline(createReadStream(join(options.bodiesDirectory, body.sha256)), options.response);
    return;
  }
  const bytes = decodeInlineBody(body);
  headers['content-length'] = String(bytes.length);
  options.response.writeHead(options.recorded.status, headers);
  options.response.end(bytes);
}
