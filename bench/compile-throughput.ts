/**
 * Compile throughput: prompts per second for 100,000 records, against a baseline measured in the same run (the
 * same character text built with a plain template literal: the floor of what rendering can cost).
 * Run: npm run bench
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compilePrompts } from '../stages/compile/core/compile-prompts.ts';
import { compileSettingsSchema } from '../schemas/compile-settings.ts';
import { compilePromptTemplates, readTemplateSources } from '../stages/compile/load-prompt-templates.ts';
import { hashCanonical } from '../lib/canonical-json.ts';
import { createAnalyzedImages } from '../test/support/sample-records.ts';

const recordCount = Number(process.env['BENCH_RECORDS'] ?? 100_000);
const distinct = createAnalyzedImages(1000, 'bench');
const records = Array.from({ length: recordCount }, (_unused, index) => {
  const base = distinct[index % distinct.length]!;
  return { ...base, sourcePath: `bench-${String(index).padStart(6, '0')}.png` };
});
const templates = compilePromptTemplates(await readTemplateSources(join(import.meta.dirname, '..', 'templates')));
const settings = compileSettingsSchema.parse({});

function baseline(): number {
  let total = 0;
  for (const { record, sha256 } of records) {
    const text = `Character sheet of ${record.archetype}: ${record.species}, apparently ${record.apparent_age} years old, with a ${record.mood} expression.
Keep these traits exactly as described: ${record.visual_traits.join('; ')}.
Clothing: ${record.clothing}.
Identifying details that must appear: ${record.notable_features.join('; ')}.
Colour palette, most prominent first: ${record.colour_palette.join(', ')}.
Art style: ${record.art_style}. Composition: ${record.pose}. Lighting: ${record.lighting}. Background: ${record.background}.`;
    total += hashCanonical({ text, sha256 }).length;
  }
  return total;
}

function measure(run: () => unknown): number {
  const started = performance.now();
  run();
  return (performance.now() - started) / 1000;
}

measure(() => compilePrompts({ records: records.slice(0, 2000), templates, settings }));
measure(baseline);
const compileSeconds = measure(() => compilePrompts({ records, templates, settings }));
const baselineSeconds = measure(baseline);
const rate = recordCount / compileSeconds;
const baselineRate = recordCount / baselineSeconds;
process.stdout.write(
  `${JSON.stringify({ records: recordCount, compileSeconds: Number(compileSeconds.toFixed(2)), promptsPerSecond: Math.round(rate), baselinePromptsPerSecond: Math.round(baselineRate), ratioToBaseline: Number((rate / baselineRate).toFixed(3)), node: process.version }, null, 2)}\n`,
);
