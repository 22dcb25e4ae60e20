import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { formatZodIssues } from '../../schemas/format-zod-issues.ts';

/** Where the recorded shapes live: one JSON file per recording, each naming its source (see its README.md). */
export const recordedFixtureDirectory = join(import.meta.dirname, '..', 'fixtures', 'recorded');

const sourceSchema = z.strictObject({
  /** How close to the wire: a cassette or capture, a body pasted by someone who saw it, or a quote in an issue. */
  kind: z.enum(['real recording', 'sanitized live capture', 'pasted live body', 'user report', 'developer write-up']),
  what: z.string().min(1),
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/).optional(),
  path: z.string().min(1).optional(),
  commit: z.string().regex(/^[0-9a-f]{40}$/).optional(),
  issue: z.string().min(1).optional(),
  /** An id of the code index the research used, where the index did not name the repository. */
  codeSearchId: z.string().regex(/^\d+$/).optional(),
  recorded: z.string().min(4).optional(),
  /** `wire`: keys in the order the server wrote them; `alphabetical`: re-sorted by the recorder; `unknown`. */
  keyOrder: z.enum(['wire', 'alphabetical', 'unknown']),
  /** What we changed: big base64 replaced by stand-ins, ids shortened, values aligned. */
  changes: z.array(z.string().min(1)),
});
export type RecordedSource = z.infer<typeof sourceSchema>;

const bodySchema = z.union([
  z.strictObject({ json: z.json() }),
  z.strictObject({ text: z.string() }),
  z.strictObject({ empty: z.literal(true) }),
  /** Bytes the recording had but we did not keep (a video); a replay must be given its own. */
  z.strictObject({ omitted: z.string().min(1) }),
]);
export type RecordedBody = z.infer<typeof bodySchema>;

const headersSchema = z.record(z.string().regex(/^[a-z0-9-]+$/, 'a lowercase header name'), z.string());

const exchangeSchema = z.strictObject({
  name: z.string().min(1),
  source: sourceSchema.optional(),
  request: z.strictObject({
    method: z.string().regex(/^[A-Z]+$/),
    /** Path and query as recorded (the recorded host left out). */
    target: z.string().startsWith('/'),
    headers: headersSchema.optional(),
    body: z.unknown().optional(),
  }),
  response: z.strictObject({
    status: z.number().int().min(100).max(599),
    headers: headersSchema,
    /** The front end gzip-encoded this answer (to a client that accepted gzip). */
    gzip: z.boolean(),
    body: bodySchema,
  }),
  /** Paths (as compareShape writes them) the source left out although the server sent them. */
  notRecorded: z.array(z.string().min(1)).optional(),
});
export type RecordedExchange = z.infer<typeof exchangeSchema>;

const fixtureSchema = z
  .strictObject({
    description: z.string().min(1),
    source: sourceSchema,
    exchanges: z.array(exchangeSchema).min(1).optional(),
    /** Lines of a batch results file, each as the file has it. */
    lines: z.array(z.record(z.string(), z.unknown())).min(1).optional(),
  })
  .refine((fixture) => (fixture.exchanges === undefined) !== (fixture.lines === undefined), 'a fixture holds either exchanges or lines');
export type RecordedFixture = z.infer<typeof fixtureSchema>;

const cache = new Map<string, RecordedFixture>();

/** Reads and checks a fixture of test/fixtures/recorded; a fresh copy each time, so a test may change what it got. */
export function loadRecordedFixture(name: string): RecordedFixture {
  let fixture = cache.get(name);
  if (!fixture) {
    const path = join(recordedFixtureDirectory, name);
    const result = fixtureSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (!result.success) throw new Error(`${path} is not a recorded fixture: ${formatZodIssues(result.error.issues)}`);
    fixture = result.data;
    cache.set(name, fixture);
  }
  return structuredClone(fixture);
}

/** One exchange of a fixture, by name (the only one when the name is left out). */
export function loadRecordedExchange(fixtureName: string, exchangeName?: string): RecordedExchange {
  const exchanges = loadRecordedFixture(fixtureName).exchanges ?? [];
  const exchange = exchangeName === undefined && exchanges.length === 1 ? exchanges[0] : exchanges.find((candidate) => candidate.name === exchangeName);
  if (!exchange) throw new Error(`${fixtureName} has no exchange ${exchangeName ?? '(it has several)'}`);
  return exchange;
}

/** The JSON body of an exchange's answer. */
export function recordedJson<T = Record<string, unknown>>(exchange: RecordedExchange): T {
  if (!('json' in exchange.response.body)) throw new Error(`exchange ${exchange.name} has no JSON body`);
  return exchange.response.body.json as T;
}

/** A generateContent answer as recorded (the body of the fixture's only exchange). */
export function loadRecordedAnswer(fixtureName: string): Record<string, unknown> {
  return recordedJson(loadRecordedExchange(fixtureName));
}

export function loadRecordedLines(fixtureName: string): Record<string, unknown>[] {
  const lines = loadRecordedFixture(fixtureName).lines;
  if (!lines) throw new Error(`${fixtureName} holds no result lines`);
  return lines;
}

/**
 * The same value with every occurrence of each text replaced (ids, names): a recorded answer made to fit the request
 * a test sends, its shape untouched.
 */
export function substituteText<T>(value: T, replacements: Record<string, string>): T {
  let text = JSON.stringify(value);
  for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to);
  return JSON.parse(text) as T;
}
