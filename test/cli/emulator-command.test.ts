import { GoogleGenAI } from '@google/genai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { runNodeProcess } from '../support/chargen-process.ts';

const binary = join(import.meta.dirname, '..', '..', 'bin', 'chargen.js');

describe('chargen emulator', () => {
  it('prints the base URL and how to point an SDK at it, serves the SDK, and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, [binary, 'emulator', '--port', '0', '--pending-ms', '0', '--running-ms', '0'], {
      env: { ...process.env, CHARGEN_EMULATOR_API_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const lines = createInterface({ input: child.stdout });
    let baseUrl = '';
    for await (const line of lines) {
      output.push(line);
      const match = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match?.[1]) baseUrl = match[1];
      if (line.includes('Ctrl-C')) break;
    }
    expect(baseUrl).not.toBe('');
    expect(output.join('\n')).toContain(`httpOptions: { baseUrl: '${baseUrl}' }`);
    expect(output.join('\n')).toContain(`GOOGLE_GEMINI_BASE_URL=${baseUrl}`);

    const client = new GoogleGenAI({ apiKey: 'any', apiVersion: 'v1beta', httpOptions: { baseUrl } });
    const answer = await client.models.generateContent({ model: 'gemini-3-flash-preview', contents: 'hello' });
    expect(answer.text).toContain('hello');

    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('exits 2 with a clear message for a bad flag value', async () => {
    const { code, stderr } = await runNodeProcess({ args: [binary, 'emulator', '--port', 'eighty'] });
    expect(code).toBe(2);
    expect(stderr).toContain('--port');
  });
});
