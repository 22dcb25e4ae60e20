import { JobState, type GoogleGenAI } from '@google/genai';
import { describe, expect } from 'vitest';
import { expectApiError } from '../../support/expect-rejection.ts';
import type { DefineContractCase } from '../test-gemini-backend.ts';

// batches.create reads the whole input file before any job exists, and answers one 400 naming every bad line, in
// the format recorded from the real API (inspect_ai #3257, #5100). Moved from test/emulator/batch-input.contract.test.ts.

const contents = [{ role: 'user', parts: [{ text: 'Describe a knight.' }] }];

async function uploadText(client: GoogleGenAI, text: string): Promise<string> {
  const file = await client.files.upload({ file: new Blob([text]), config: { mimeType: 'application/json' } });
  return file.name ?? '';
}

/** 1-based column of the first occurrence of `needle` in `line`. */
function columnOf(line: string, needle: string): number {
  const index = line.indexOf(needle);
  expect(index, `${needle} in ${line}`).toBeGreaterThanOrEqual(0);
  return index + 1;
}

export function defineBatchInputCases(contractCase: DefineContractCase): void {
  describe('batches.create validates the whole input file', () => {
    contractCase('answers 400 INVALID_ARGUMENT with one "Error on line N" per bad line, joined by newlines, and creates nothing', ['fresh-state', 'unmetered'], async (backend) => {
      const good = JSON.stringify({ key: 'good', request: { contents } });
      const misplaced = JSON.stringify({ key: 'misplaced', request: { contents, thinking_config: { thinking_level: 'LOW' } } });
      const bareArray = JSON.stringify({ key: 'array', request: { system_instruction: ['Be brief.'], contents } });
      const notJson = '{"key": "cut", "request": }';
      const twice = JSON.stringify({ key: 'twice', request: { contents, generationConfig: { temperature: 1 }, generation_config: { temperature: 1 } } });
      const input = await uploadText(backend.client, [good, misplaced, bareArray, '', notJson, twice, good].join('\n'));

      const raw = await backend.request('/v1beta/models/gemini-3-flash-preview:batchGenerateContent', { json: { batch: { inputConfig: { fileName: input } } } });
      expect(raw.status).toBe(400);
      const message = [
        `Error on line 2: invalid JSON, near column ${columnOf(misplaced, '"thinking_config"')}: no such field: 'thinking_config'`,
        `Error on line 3: invalid JSON, near column ${columnOf(bareArray, '[')}: unexpected character: '['; expected '{'`,
        `Error on line 5: invalid JSON, near column ${columnOf(notJson, '}')}: unexpected character: '}'; expected a value`,
        `Error on line 6: invalid JSON, near column ${columnOf(twice, '"generation_config"')}: duplicate field: 'generation_config' (also given as 'generationConfig')`,
      ].join('\n');
      // Exactly the recorded envelope: no details.
      expect(await raw.json()).toEqual({ error: { code: 400, message, status: 'INVALID_ARGUMENT' } });

      const error = await expectApiError(backend.client.batches.create({ model: 'gemini-3-flash-preview', src: input }));
      expect(error.status).toBe(400);
      expect(error.message).toBe(JSON.stringify({ error: { code: 400, message, status: 'INVALID_ARGUMENT' } }));
      if (backend.stats) expect((await backend.stats())['batchesCreated']).toBe(0);
      expect((await backend.client.batches.list({ config: { pageSize: 10 } })).page).toHaveLength(0);
    });

    contractCase('refuses a line that is not an object, and a request field beside the request', ['unmetered'], async (backend) => {
      const input = await uploadText(backend.client, ['["a"]', JSON.stringify({ key: 'k', contents })].join('\n'));
      const error = await expectApiError(backend.client.batches.create({ model: 'gemini-3-flash-preview', src: input }));
      expect(error.message).toContain(`Error on line 1: invalid JSON, near column 1: unexpected character: '['; expected '{'`);
      expect(error.message).toContain(`Error on line 2: invalid JSON, near column 12: no such field: 'contents'`);
    });

    contractCase('takes camelCase, snake_case and a mix of both, and leaves semantic problems to per-line errors', ['clock', 'unmetered'], async (backend) => {
      const schema = { type: 'OBJECT', properties: { hairColour: { type: 'STRING' } }, required: ['hairColour'], property_ordering: ['hairColour'] };
      const lines = [
        { key: 'camel', request: { contents, generationConfig: { responseMimeType: 'application/json', responseSchema: schema } } },
        { key: 'snake', request: { contents, generation_config: { response_mime_type: 'application/json', response_schema: schema } } },
        { key: 'mixed', request: { contents, generation_config: { responseMimeType: 'application/json', response_schema: schema } } },
        { key: 'bad-size', request: { contents, generation_config: { image_config: { image_size: '2k' } } } },
      ];
      const input = await uploadText(backend.client, lines.map((line) => JSON.stringify(line)).join('\n'));
      const created = await backend.client.batches.create({ model: 'gemini-3-flash-preview', src: input });
      await backend.advanceClock(2000);
      const finished = await backend.client.batches.get({ name: created.name ?? '' });
      expect(finished.state).toBe(JobState.JOB_STATE_SUCCEEDED);
      const output = await backend.request(`/v1beta/${finished.dest?.fileName ?? ''}:download?alt=media`);
      const answers = (await output.text()).trimEnd().split('\n').map((line) => JSON.parse(line) as { key: string; response?: unknown; error?: { code: number } });
      expect(answers.map((answer) => [answer.key, answer.response ? 'response' : answer.error?.code])).toEqual([
        ['camel', 'response'],
        ['snake', 'response'],
        ['mixed', 'response'],
        ['bad-size', 3],
      ]);
      expect(JSON.stringify(answers[1]?.response)).toContain('hairColour');
    });
  });
}
