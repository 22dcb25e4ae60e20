// Each stage's pure core (stages/<stage>/core/: plans, requests, judging answers, fingerprints) reads no clock and
// does no I/O: read from the files' imports and text, so that it stays true.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** Packages a core may use: pure computation only (hashing, schemas, templates). */
const allowedPackages = new Set(['node:crypto', 'node:path', 'zod', 'handlebars']);
/** Files outside schemas/ and the cores that a core may import values from: pure themselves. */
const allowedFiles = new Set(['lib/canonical-json.ts', 'lib/compare-text.ts', 'lib/gemini/line-outcome.ts', 'lib/gemini/to-openapi-schema.ts']);
/** What only I/O or the clock would be written as. */
const forbiddenText = [/\bDate\.now\b/, /\bnew Date\(\s*\)/, /\bfetch\(/, /\bprocess\./, /\bperformance\.now\b/, /\bMath\.random\b/];

export function listCoreFiles(): string[] {
  return readdirSync(join(root, 'stages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((stage) => {
      const core = join('stages', stage.name, 'core');
      try {
        return readdirSync(join(root, core)).filter((name) => name.endsWith('.ts')).map((name) => join(core, name).split('\\').join('/'));
      } catch {
        return [];
      }
    });
}

/** Pure: what in one core file breaks the rule, as sentences (`import type` is free: it leaves nothing at run time). */
export function findImpurities(file: string, text: string): string[] {
  const problems: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'";]*?\bfrom\s+['"]([^'"]+)['"]/gm)) {
    if (match[1]) continue;
    const specifier = match[2] ?? '';
    if (!specifier.startsWith('.')) {
      if (!allowedPackages.has(specifier)) problems.push(`${file} imports ${specifier}`);
      continue;
    }
    const target = relative(root, resolve(dirname(join(root, file)), specifier)).split('\\').join('/');
    const pure = target.startsWith('schemas/') || /^stages\/[^/]+\/core\//.test(target) || allowedFiles.has(target);
    if (!pure) problems.push(`${file} imports ${target}, which is not pure`);
  }
  for (const pattern of forbiddenText) if (pattern.test(text)) problems.push(`${file} uses ${pattern.source}`);
  return problems;
}

describe("the stages' pure cores", () => {
  const files = listCoreFiles();

  it('has a core for every stage', () => {
    for (const stage of ['analyze', 'compile', 'synthesize']) expect(files.some((file) => file.startsWith(`stages/${stage}/core/`))).toBe(true);
    expect(files).toContain('stages/synthesize/core/plan-synthesis.ts');
  });

  it('imports nothing that reads the clock, the file system or the network', () => {
    expect(files.flatMap((file) => findImpurities(file, readFileSync(join(root, file), 'utf8')))).toEqual([]);
  });

  it('would catch a core reading a folder, asking the API, or reading the clock', () => {
    const file = 'stages/synthesize/core/plan-synthesis.ts';
    expect(findImpurities(file, "import { readdir } from 'node:fs/promises';")).toHaveLength(1);
    expect(findImpurities(file, "import { uploadFiles } from '../../../lib/gemini/upload-files.ts';")).toHaveLength(1);
    expect(findImpurities(file, "import { readOutputNames } from '../output-names.ts';")).toHaveLength(1);
    expect(findImpurities(file, 'const now = Date.now();')).toHaveLength(1);
    expect(findImpurities(file, "import type { OutputFolderListing } from '../list-output-folder.ts';")).toEqual([]);
  });
});
