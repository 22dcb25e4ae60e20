import type { IncomingMessage, ServerResponse } from 'node:http';
import { securityHeaders, type HttpProblem } from './http-problem.ts';

/** The open pages' event stream: each is sent the queue when it changed, and a keep-alive line now and then. */
export interface QueueStream {
  /** Serves `/api/events` to one page until it goes. */
  open(request: IncomingMessage, response: ServerResponse): void;
  /** Sends the queue now (after an action), to the pages it changed for. */
  tick(): Promise<void>;
  close(): void;
}

export function createQueueStream(options: {
  readQueue: () => Promise<unknown>;
  redact: (text: string) => string;
  toProblem: (error: unknown) => HttpProblem;
  refreshMilliseconds: number;
}): QueueStream {
  const clients = new Set<{ response: ServerResponse; last: string }>();
  let ticking = false;
  let ticks = 0;

  async function readPayload(): Promise<string> {
    try {
      return `event: queue\ndata: ${options.redact(JSON.stringify(await options.readQueue()))}\n\n`;
    } catch (error) {
      const problem = options.toProblem(error);
      return `event: problem\ndata: ${JSON.stringify({ error: { code: problem.code, message: problem.message } })}\n\n`;
    }
  }

  async function tick(): Promise<void> {
    if (ticking || clients.size === 0) return;
    ticking = true;
    ticks += 1;
    try {
      const payload = await readPayload();
      for (const client of clients) {
        if (client.last !== payload) {
          client.last = payload;
          client.response.write(payload);
        } else if (ticks % 15 === 0) {
          // Keeps proxies and the browser from timing the stream out while nothing changes.
          client.response.write(': still here\n\n');
        }
      }
    } finally {
      ticking = false;
    }
  }
  const timer = setInterval(() => void tick(), options.refreshMilliseconds);
  timer.unref();

  return {
    open(request, response) {
      response.writeHead(200, { ...securityHeaders, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      response.write('retry: 2000\n\n');
      const client = { response, last: '' };
      clients.add(client);
      request.on('close', () => clients.delete(client));
      void tick();
    },
    tick,
    close() {
      clearInterval(timer);
      for (const client of clients) client.response.end();
      clients.clear();
    },
  };
}
