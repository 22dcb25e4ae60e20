// The README is written for users: every command, flag and JSON example in it must be what chargen really takes.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { faultConfigSchema } from '../../emulator/fault-config.ts';
import { runCli } from '../../pipeline/cli/run-cli.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { createMemoryLogger } from '../../lib/logger.ts';

const root = join(import.meta.dirname, '..', '..');
const readmePath = join(root, 'README.md');

/** The README, then the pages of docs/ (the details moved there are examples users copy too). */
async function listDocuments(): Promise<string[]> {
  const pages = (await readdir(join(root, 'docs'))).filter((name) => name.endsWith('.md')).sort();
  return [readmePath, ...pages.map((name) => join(root, 'docs', name))];
}

/** The fenced blocks of a language ('' for plain ones), read fence by fence so closing fences are never openings. */
async function readBlocks(language: string, paths: readonly string[] = [readmePath]): Promise<string[]> {
  const blocks: string[] = [];
  let current: { language: string; lines: string[] } | undefined;
  const lines = (await Promise.all(paths.map((path) => readFile(path, 'utf8')))).flatMap((text) => text.split('\n'));
  for (const line of lines) {
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

  it('shows configs that validate and fault settings the emulator takes, in the README and docs/', async () => {
    const examples = (await readBlocks('json', await listDocuments())).map((block) => JSON.parse(block) as Record<string, unknown>);
    const configs = examples.filter((example) => 'compile' in example || 'vertex' in example);
    const faults = examples.filter((example) => 'endpoints' in example);
    expect(configs.length).toBeGreaterThanOrEqual(2);
    expect(faults.length).toBeGreaterThanOrEqual(1);
    for (const config of configs) expect(() => resolveConfig({ file: { path: 'chargen.config.json', value: config }, env: {}, flags: {} })).not.toThrow();
    for (const fault of faults) expect(faultConfigSchema.safeParse(fault).success).toBe(true);
    // The README's own examples are among them: a compile one, and the Vertex AI set-up.
    const readmeExamples = (await readBlocks('json')).map((block) => JSON.parse(block) as object);
    expect(readmeExamples.some((example) => 'compile' in example)).toBe(true);
    expect(readmeExamples.some((example) => 'vertex' in example)).toBe(true);
  });
});
