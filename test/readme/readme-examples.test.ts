// The README is written for users: every command, flag and JSON example in it must be what chargen really takes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { faultConfigSchema } from '../../emulator/fault-config.ts';
import { runCli } from '../../pipeline/cli/run-cli.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { createMemoryLogger } from '../../pipeline/logger.ts';

const readmePath = join(import.meta.dirname, '..', '..', 'README.md');

/** The fenced blocks of a language ('' for plain ones), read fence by fence so closing fences are never openings. */
async function readBlocks(language: string): Promise<string[]> {
  const blocks: string[] = [];
  let current: { language: string; lines: string[] } | undefined;
  for (const line of (await readFile(readmePath, 'utf8')).split('\n')) {
    if (!line.startsWith('```')) {
      current?.lines.push(line);
    } else if (current) {
      if (current.language === language) blocks.push(current.lines.join('\n'));
      current = undefined;
    } else {
      current = { language: line.slice(3).trim(), lines: [] };
    }
  }
  return blocks;
}

async function readHelp(args: string[]): Promise<string> {
  const logger = createMemoryLogger();
  await runCli({ argv: ['node', 'chargen', ...args, '--help'], cwd: process.cwd(), env: {}, logger });
  return logger.lines.map((line) => line.text).join('\n');
}

describe('the README', () => {
  it('lists only commands and flags that chargen takes', async () => {
    const [commands] = await readBlocks('');
    expect(commands).toBeDefined();
    const usages = (commands ?? '').split(/\n(?=chargen )/).filter((usage) => usage.startsWith('chargen '));
    expect(usages.length).toBeGreaterThan(5);
    for (const usage of usages) {
      const name = /^chargen (\S+)/.exec(usage)?.[1] ?? '';
      const help = await readHelp(name === 'jobs' ? ['jobs', 'list'] : [name]);
      expect(help, `chargen ${name} --help`).toContain('Usage:');
      for (const flag of usage.match(/--[a-z-]+/g) ?? []) expect(help, `chargen ${name} ${flag}`).toContain(flag);
    }
  });

  it('shows a config that validates and fault settings the emulator takes', async () => {
    const examples = (await readBlocks('json')).map((block) => JSON.parse(block) as Record<string, unknown>);
    const config = examples.find((example) => 'compile' in example);
    const faults = examples.find((example) => 'endpoints' in example);
    expect(config && faults).toBeTruthy();
    expect(() => resolveConfig({ file: { path: 'chargen.config.json', value: config }, env: {}, flags: {} })).not.toThrow();
    expect(faultConfigSchema.safeParse(faults).success).toBe(true);
  });
});
