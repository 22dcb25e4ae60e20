import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadJobRecords, saveJobRecord } from '../../lib/gemini/job-record.ts';
import type { LineOutcome } from '../../lib/gemini/line-outcome.ts';
import { fingerprintChunk, formatDisplayName } from '../../lib/gemini/plan-chunks.ts';
import { findRefusedLines } from '../../lib/gemini/submit-chunk.ts';
import { createGeminiFixture, createTextLines, type GeminiFixture } from '../support/gemini-fixture.ts';

let fixture: GeminiFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const model = 'gemini-3-flash-preview';

function answerText(outcome: LineOutcome | undefined): string {
  if (outcome?.status !== 'succeeded') return '';
  return (outcome.response['candidates'] as { content: { parts: { text?: string }[] } }[])[0]?.content.parts[0]?.text ?? '';
}

async function readRequestFiles(workspaceDirectory: string): Promise<Record<string, unknown>[]> {
  const directory = join(workspaceDirectory, 'requests', 'analyze');
  const lines: Record<string, unknown>[] = [];
  for (const name of (await readdir(directory)).sort()) {
    const text = await readFile(join(directory, name), 'utf8');
    for (const line of text.trimEnd().split('\n')) lines.push(JSON.parse(line) as Record<string, unknown>);
  }
  return lines;
}

/** Every object key below `value`, skipping the subtrees that are data (schema property names, a JSON Schema). */
function collectFieldNames(value: unknown, names: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) for (const entry of value) collectFieldNames(entry, names);
  else if (typeof value === 'object' && value !== null) {
    for (const [name, child] of Object.entries(value)) {
      names.add(name);
      if (name !== 'properties' && name !== 'response_json_schema') collectFieldNames(child, names);
    }
  }
  return names;
}

describe('request lines as written to the JSONL file', () => {
  it('carry snake_case proto field names, no model, and untouched property names and JSON Schema; answers map back by key', async () => {
    fixture = await createGeminiFixture();
    const schemaLine = {
      key: 'schema',
      request: {
        model: 'models/gemini-3-flash-preview',
        contents: [{ role: 'user', parts: [{ text: 'Describe the knight.' }] }],
        systemInstruction: { parts: [{ text: 'Answer in JSON.' }] },
        generationConfig: {
          responseMimeType: 'application/json',
          responseSchema: { type: 'OBJECT', properties: { hairColour: { type: 'STRING', maxLength: 40 } }, required: ['hairColour'], propertyOrdering: ['hairColour'] },
          thinkingConfig: { thinkingLevel: 'LOW' },
        },
      },
    };
    const jsonSchemaLine = {
      key: 'json-schema',
      request: {
        contents: [{ role: 'user', parts: [{ text: 'Name the ranger.' }] }],
        generationConfig: { responseMimeType: 'application/json', responseJsonSchema: { type: 'object', properties: { givenName: { type: 'string', maxLength: 20 } }, required: ['givenName'] } },
      },
    };
    const report = await fixture.createBatchExecutor().execute({ stage: 'analyze', model, lines: [schemaLine, jsonSchemaLine] });
    expect(JSON.parse(answerText(report.outcomes.get('schema')))).toHaveProperty('hairColour');
    expect(JSON.parse(answerText(report.outcomes.get('json-schema')))).toHaveProperty('givenName');

    const written = await readRequestFiles(fixture.workspaceDirectory);
    expect(written.map((line) => line['key'])).toEqual(['schema', 'json-schema']);
    expect(written[0]?.['request']).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Describe the knight.' }] }],
      system_instruction: { parts: [{ text: 'Answer in JSON.' }] },
      generation_config: {
        response_mime_type: 'application/json',
        response_schema: { type: 'OBJECT', properties: { hairColour: { type: 'STRING', max_length: 40 } }, required: ['hairColour'], property_ordering: ['hairColour'] },
        thinking_config: { thinking_level: 'LOW' },
      },
    });
    const jsonSchema = (written[1]?.['request'] as { generation_config: { response_json_schema: unknown } }).generation_config.response_json_schema;
    expect(jsonSchema).toEqual(jsonSchemaLine.request.generationConfig.responseJsonSchema);
    const camelNames = [...collectFieldNames(written)].filter((name) => /[A-Z]/.test(name));
    expect(camelNames).toEqual([]);
  });

  it('fails a line that does not fit the request message on its own, naming the field, and sends the others in one job', async () => {
    fixture = await createGeminiFixture();
    const lines = createTextLines(6);
    (lines[2]!.request['generationConfig'] as Record<string, unknown>)['thinkingConfig'] = { thinkngLevel: 'LOW' };
    lines[4]!.request['systemInstruction'] = ['Be brief.'];
    const report = await fixture.createBatchExecutor().execute({ stage: 'analyze', model, lines });
    const misspelt = report.outcomes.get('line-2');
    expect(misspelt).toMatchObject({ status: 'failed', retryable: false });
    expect(misspelt?.status === 'failed' && misspelt.reason).toBe(
      "request not sent: 'request.generationConfig.thinkingConfig.thinkngLevel' is not a field of ThinkingConfig (its fields: includeThoughts, thinkingBudget, thinkingLevel)",
    );
    expect(misspelt?.status === 'failed' && misspelt.fix).toContain('chargen.config.json');
    expect(report.outcomes.get('line-4')).toMatchObject({ status: 'failed', reason: "request not sent: 'request.systemInstruction' must be an object (a Content), not a list" });
    expect([0, 1, 3, 5].map((index) => report.outcomes.get(`line-${index}`)?.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(report.jobsCreated).toBe(1);
    expect((await fixture.emulator.stats())['requestsByModel']).toEqual({ [model]: 4 });

    // The sync executor applies the same check, so both modes agree on the same lines.
    const sync = await fixture.createSyncExecutor().execute({ stage: 'preview', model, lines });
    expect(sync.outcomes.get('line-2')).toEqual(misspelt);
    expect(sync.outcomes.get('line-4')).toEqual(report.outcomes.get('line-4'));
    expect((await fixture.emulator.stats())['generateContentCalls']).toBe(4);
  });

  it('fails the line a create-time 400 names, quoting the API, and sends the rest of the chunk again in a new job', async () => {
    fixture = await createGeminiFixture();
    const lines = createTextLines(4);
    const keys = lines.map((line) => line.key);
    // A request file left by an earlier run (written before this check existed): its line 2 puts a field at the wrong level.
    const fingerprint = fingerprintChunk({ model, keys });
    const displayName = formatDisplayName({ workspaceId: 'ws1', stage: 'analyze', fingerprint, attempt: 1 });
    const requestFile = join('requests', 'analyze', `${displayName}.jsonl`);
    const fileLines = lines.map((line, index) => JSON.stringify({ key: line.key, request: index === 1 ? { ...line.request, thinking_config: {} } : line.request }));
    await mkdir(join(fixture.workspaceDirectory, 'requests', 'analyze'), { recursive: true });
    await writeFile(join(fixture.workspaceDirectory, requestFile), `${fileLines.join('\n')}\n`);
    await saveJobRecord(fixture.workspaceDirectory, { version: 1, displayName, stage: 'analyze', model, fingerprint, attempt: 1, keys, requestFile, status: 'preparing', createdAt: new Date(fixture.emulator.clock.now()).toISOString() });

    const report = await fixture.createBatchExecutor({ settings: { maxRounds: 1 } }).execute({ stage: 'analyze', model, lines });
    const refused = report.outcomes.get('line-1');
    expect(refused).toMatchObject({ status: 'failed', retryable: false });
    const column = fileLines[1]!.indexOf('"thinking_config"') + 1;
    expect(refused?.status === 'failed' && refused.reason).toBe(
      `batches.create refused this request line: "Error on line 2: invalid JSON, near column ${column}: no such field: 'thinking_config'"`,
    );
    expect(['line-0', 'line-2', 'line-3'].map((key) => report.outcomes.get(key)?.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(report.jobsCreated).toBe(1);
    expect((await fixture.emulator.stats())['batchesCreated']).toBe(1);
    const records = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
    expect(records.map((record) => [record.keys.length, record.finalState])).toEqual(expect.arrayContaining([[4, 'REFUSED'], [3, 'JOB_STATE_SUCCEEDED']]));
  });
});

describe('findRefusedLines', () => {
  it('maps each "Error on line N" to the Nth key, and finds none in a 400 that names no line', () => {
    const message = "Error on line 1: invalid JSON, near column 3: no such field: 'x'\nError on line 3: invalid JSON, near column 9: unexpected character: '['; expected '{'\nError on line 7: out of range";
    expect(findRefusedLines({ message, keys: ['a', 'b', 'c'] })).toEqual(
      new Map([
        ['a', `batches.create refused this request line: "Error on line 1: invalid JSON, near column 3: no such field: 'x'"`],
        ['c', `batches.create refused this request line: "Error on line 3: invalid JSON, near column 9: unexpected character: '['; expected '{'"`],
      ]),
    );
    expect(findRefusedLines({ message: 'Request contains an invalid argument.', keys: ['a'] }).size).toBe(0);
  });
});
