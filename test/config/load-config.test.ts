import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createConfigJsonSchema } from '../../schemas/chargen-config.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { estimateCost } from '../../pipeline/estimate-run.ts';
import { priceTableSchema, usageEstimateSchema } from '../../schemas/price-table.ts';

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('takes flags over environment over file over defaults', () => {
    const file = { path: '/p/chargen.config.json', value: { out: 'from-file', mode: 'sync', input: 'file-input', compile: { variants: 3 } } };
    const config = resolveConfig({ file, env: { CHARGEN_OUT: 'from-env', CHARGEN_MODE: 'batch' }, flags: { out: 'from-flag', pollInterval: '250' } });
    expect(config.out).toBe('from-flag');
    expect(config.mode).toBe('batch');
    expect(config.input).toBe('/p/file-input');
    expect(config.workdir).toBe('.chargen');
    expect(config.compile.variants).toBe(3);
    expect(config.compile.imageConfig).toEqual({ aspectRatio: '9:16', imageSize: '2K' });
    expect(config.gemini).toMatchObject({ pollInitialMilliseconds: 250, pollMaxMilliseconds: 250 });
  });

  it('reports every problem at once, each named by where it came from', () => {
    const file = { path: '/p/chargen.config.json', value: { mode: 'fast', compile: { variants: 0, imageConfig: { imageSize: '2k' } }, colour: 'blue' } };
    const problems = problemsOf(() => resolveConfig({ file, env: { CHARGEN_CONFIRM_ABOVE_USD: 'lots' }, flags: { backend: 'nowhere', pollInterval: 'soon' } }));
    expect(problems).toHaveLength(7);
    expect(problems.join('\n')).toContain('--poll-interval: expected a whole number of milliseconds');
    expect(problems.join('\n')).toContain('--backend:');
    expect(problems.join('\n')).toContain('CHARGEN_CONFIRM_ABOVE_USD:');
    expect(problems.join('\n')).toContain('/p/chargen.config.json: mode');
    expect(problems.join('\n')).toContain('/p/chargen.config.json: compile.variants');
    expect(problems.join('\n')).toContain('/p/chargen.config.json: compile.imageConfig.imageSize');
    expect(problems.join('\n')).toContain('colour');
  });

  it("reads the file's paths from its folder, and those of flags and the environment from the working directory", () => {
    const file = { path: '/p/conf/chargen.config.json', value: { input: 'images', out: '../renders', workdir: '/abs/ws', compile: { templateDirectory: 'templates' } } };
    const fromFile = resolveConfig({ file, env: {}, flags: {} });
    expect([fromFile.input, fromFile.out, fromFile.workdir, fromFile.compile.templateDirectory]).toEqual(['/p/conf/images', '/p/renders', '/abs/ws', '/p/conf/templates']);
    const overridden = resolveConfig({ file, env: { CHARGEN_OUT: 'env-out' }, flags: { input: 'flag-input' } });
    expect([overridden.input, overridden.out]).toEqual(['flag-input', 'env-out']);
  });

  it('refuses a file that is not an object', () => {
    expect(problemsOf(() => resolveConfig({ file: { path: 'c.json', value: [1] }, env: {}, flags: {} }))[0]).toContain('expected a JSON object');
  });

  it('ships a JSON Schema that matches the zod schema, with descriptions and defaults', async () => {
    const committed = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'schemas', 'chargen.config.schema.json'), 'utf8')) as unknown;
    expect(committed, 'run `npm run config-schema`').toEqual(createConfigJsonSchema());
    const properties = (committed as { properties: Record<string, { description?: string; default?: unknown }> }).properties;
    expect(properties['confirmAboveUsd']).toMatchObject({ default: 5, description: expect.stringContaining('ask before') });
  });

  it('takes a partial prices table as overrides of the default one, model by model and field by field', () => {
    const file = { path: '/p/chargen.config.json', value: { prices: { 'gemini-3-pro-image': { imagePrices: { '4K': 0.2 } }, 'gemini-nano-banana-2.1': { inputPerMillionTokens: 0.25, outputPerMillionTokens: 1.5, imagePrices: { '1K': 0.02 } } } } };
    const { prices } = resolveConfig({ file, env: {}, flags: {} });
    const defaults = priceTableSchema.parse(undefined);
    expect(prices['gemini-3-flash-preview']).toEqual(defaults['gemini-3-flash-preview']);
    expect(prices['gemini-3-pro-image']).toEqual({ inputPerMillionTokens: 1, outputPerMillionTokens: 6, imagePrices: { '1K': 0.067, '2K': 0.067, '4K': 0.2 } });
    expect(prices['gemini-nano-banana-2.1']?.imagePrices).toEqual({ '1K': 0.02 });
    const usage = usageEstimateSchema.parse(undefined);
    expect(estimateCost({ kind: 'analysis', count: 10, model: 'gemini-3-flash-preview', prices, usage })).toBeGreaterThan(0);
    // A character's references past its first are input tokens on top: a million of them cost the input price.
    const base = estimateCost({ kind: 'image', count: 1, model: 'gemini-3-pro-image', imageSize: '1K', prices, usage });
    expect(estimateCost({ kind: 'image', count: 1, model: 'gemini-3-pro-image', imageSize: '1K', prices, usage, extraInputTokens: 1_000_000 }) - base).toBeCloseTo(1, 9);

    const unpriced = { path: '/p/chargen.config.json', value: { prices: { 'my-model': { imagePrices: { '1K': 0.01 } } } } };
    expect(problemsOf(() => resolveConfig({ file: unpriced, env: {}, flags: {} }))).toEqual([
      expect.stringMatching(/^\/p\/chargen\.config\.json: prices\.my-model\.inputPerMillionTokens: .*not in the default table/),
      expect.stringMatching(/^\/p\/chargen\.config\.json: prices\.my-model\.outputPerMillionTokens: /),
    ]);
  });

  it('estimates spend from the price table: thought tokens as output, the image by its size', () => {
    const prices = priceTableSchema.parse(undefined);
    const usage = usageEstimateSchema.parse(undefined);
    const twoK = estimateCost({ kind: 'image', count: 100, model: 'gemini-3-pro-image', imageSize: '2K', prices, usage });
    expect(twoK).toBeCloseTo(100 * (0.067 + (900 * 1 + 400 * 6) / 1_000_000), 6);
    const fourK = estimateCost({ kind: 'image', count: 100, model: 'gemini-3-pro-image', imageSize: '4K', prices, usage });
    expect(fourK).toBeGreaterThan(twoK);
    expect(estimateCost({ kind: 'analysis', count: 1000, model: 'gemini-3-flash-preview', prices, usage })).toBeCloseTo(1000 * (1_700 * 0.25 + 1_200 * 1.5) / 1_000_000, 6);
    expect(estimateCost({ kind: 'analysis', count: 10, model: 'unknown-model', prices, usage })).toBe(0);
  });
});
