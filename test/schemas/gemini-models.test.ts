import { describe, expect, it } from 'vitest';
import { describeModelWarnings } from '../../lib/gemini/check-models.ts';
import { listModelUses } from '../../pipeline/list-model-uses.ts';
import { chargenConfigSchema } from '../../schemas/chargen-config.ts';
import {
  describeImageConfigProblems,
  describeRetiredModel,
  findNearestModelIds,
  findReplacementChain,
  modelCatalog,
  modelCatalogSchema,
} from '../../schemas/gemini-models.ts';

describe('the model catalog', () => {
  it('names a source for every served model and for each image fact, and prices every image size it lists', () => {
    for (const model of modelCatalog.models) {
      expect(model.sources['served'], model.id).toBeDefined();
      if (!model.image) continue;
      for (const fact of ['image.imageSizes', 'image.outputMimeType']) expect(model.sources[fact], `${model.id} ${fact}`).toBeDefined();
      for (const size of model.image.imageSizes) expect(model.image.outputTokens[size], `${model.id} ${size}`).toBeGreaterThan(0);
    }
  });

  it('refuses a routed id whose successor is not served, naming the field', () => {
    const broken = { ...modelCatalog, routed: [{ id: 'gemini-x', routedTo: 'gemini-nowhere', since: '2026-01-01', source: 'test' }] };
    const result = modelCatalogSchema.safeParse(broken);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['routed', 0, 'routedTo']);
  });

  it('names the replacement of a retired id, following it while it is itself deprecated', () => {
    expect(describeRetiredModel('models/gemini-3-pro-image-preview')).toBe('gemini-3-pro-image-preview was shut down on 2026-06-25; use gemini-3-pro-image');
    expect(findReplacementChain('gemini-3.1-flash-image-preview')).toEqual(['gemini-3.1-flash-image', 'gemini-nano-banana-2.1']);
    expect(describeRetiredModel('gemini-3.1-flash-image-preview')).toBe(
      'gemini-3.1-flash-image-preview was shut down on 2026-06-25; use gemini-nano-banana-2.1 (its named replacement gemini-3.1-flash-image is itself deprecated)',
    );
    expect(describeRetiredModel('gemini-3-pro-image')).toBeUndefined();
    expect(describeRetiredModel('gemini-9-unknown')).toBeUndefined();
  });

  it('finds the served ids nearest a mistyped one', () => {
    const candidates = modelCatalog.models.map((model) => model.id);
    expect(findNearestModelIds({ id: 'gemini-3-pro-imag', candidates, count: 1 })).toEqual(['gemini-3-pro-image']);
    expect(findNearestModelIds({ id: 'gemini-3-pro-preview', candidates, count: 1 })).toEqual(['gemini-3.1-pro-preview']);
    expect(findNearestModelIds({ id: 'models/gemini-3-flash', candidates, count: 1 })).toEqual(['gemini-3.8-flash']);
  });

  it("says which imageConfig a model does not take, and passes one the catalog cannot judge", () => {
    expect(describeImageConfigProblems({ model: 'gemini-3-pro-image', imageConfig: { imageSize: '512', aspectRatio: '1:8' } })).toEqual([
      'gemini-3-pro-image takes imageSize 1K, 2K, 4K; "512" is not one of them',
      'gemini-3-pro-image takes aspectRatio 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9; "1:8" is not one of them',
    ]);
    expect(describeImageConfigProblems({ model: 'gemini-3.1-flash-image', imageConfig: { imageSize: '512', aspectRatio: '1:8' } })).toEqual([]);
    expect(describeImageConfigProblems({ model: 'gemini-3.1-flash-lite-image', imageConfig: { imageSize: '2K' } })).toHaveLength(1);
    expect(describeImageConfigProblems({ model: 'gemini-future-image', imageConfig: { imageSize: '8K' } })).toEqual([]);
  });

  it('refuses a retired model or an imageConfig the model does not take in the config, every problem at once', () => {
    const result = chargenConfigSchema.safeParse({
      analyze: { model: 'gemini-3-pro-preview' },
      compile: { model: 'gemini-3.1-flash-lite-image', imageConfig: { imageSize: '4K', aspectRatio: '1:1' } },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['analyze.model', 'gemini-3-pro-preview was shut down on 2026-03-09; use gemini-3.1-pro-preview'],
      ['compile.imageConfig', 'gemini-3.1-flash-lite-image takes imageSize 1K; "4K" is not one of them'],
    ]);
  });
});

describe('warnings before a run', () => {
  const config = chargenConfigSchema.parse({});

  it('lists the models the selected stages call, with the method of the mode', () => {
    expect(listModelUses({ config, stages: ['analyze', 'compile', 'synthesize'] })).toEqual([
      { model: 'gemini-3-flash-preview', method: 'batchGenerateContent', setting: 'analyze.model' },
      { model: 'gemini-3-pro-image', method: 'batchGenerateContent', setting: 'compile.model' },
    ]);
    expect(listModelUses({ config: { ...config, mode: 'sync' }, stages: ['compile', 'synthesize'] })).toEqual([
      { model: 'gemini-3-pro-image', method: 'generateContent', setting: 'compile.model' },
    ]);
  });

  it('warns of deprecated and routed models, and of sampling parameters set for models they hurt or are ignored by', () => {
    const uses = [
      { model: 'gemini-3.7-flash', method: 'batchGenerateContent', setting: 'analyze.model' },
      { model: 'gemini-3.1-flash-image', method: 'batchGenerateContent', setting: 'compile.model' },
    ] as const;
    expect(describeModelWarnings({ uses, sampling: {}, samplingSetting: 'analyze', analysisModel: 'gemini-3.7-flash' })).toEqual([
      'analyze.model: gemini-3.7-flash is retired and answered by gemini-3.8-flash (since 2026-10-08, billed at its rates); set gemini-3.8-flash',
      'compile.model: gemini-3.1-flash-image is deprecated (no shutdown date yet); Google names gemini-nano-banana-2.1 to move to',
    ]);
    expect(describeModelWarnings({ uses: [], sampling: { temperature: 0.2 }, samplingSetting: 'analyze', analysisModel: 'gemini-3.6-flash' })).toEqual([
      'analyze: temperature sent as set, but gemini-3.6-flash ignores sampling parameters (deprecated on 2026-07-21)',
    ]);
    expect(describeModelWarnings({ uses: [], sampling: { topK: 40 }, samplingSetting: 'analyze', analysisModel: 'gemini-2.5-flash-lite' })).toEqual([]);
    expect(describeModelWarnings({ uses: [], sampling: {}, samplingSetting: 'analyze', analysisModel: 'gemini-3-flash-preview' })).toEqual([]);
  });
});
