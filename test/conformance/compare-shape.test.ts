import { describe, expect, it } from 'vitest';
import { compareShape } from './compare-shape.ts';

const recorded = {
  candidates: [{ content: { parts: [{ text: 'a', thoughtSignature: 'Eg==' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 9, totalTokenCount: 9, serviceTier: 'standard' },
  batchStats: { requestCount: '3' },
  createTime: '2026-08-20T20:08:31.015405218Z',
};

describe('compareShape', () => {
  it('finds nothing to say of an answer shaped as recorded, whatever its values', () => {
    const same = structuredClone(recorded);
    same.candidates[0]!.content.parts[0]!.text = 'another text';
    same.usageMetadata.promptTokenCount = 120;
    expect(compareShape(recorded, same, { wireOrder: true })).toEqual([]);
  });

  it('reports every difference with its JSON path: missing and extra keys, order, types, string kinds, lengths, values', () => {
    const actual = {
      usageMetadata: { totalTokenCount: '9', promptTokenCount: 9, serviceTier: 'flex', thoughtsTokenCount: 3 },
      candidates: [{ content: { parts: [{ text: 'a' }, { text: 'b' }], role: 'model' }, finishReason: 'STOP', finishMessage: 'x', index: 0 }],
      batchStats: { requestCount: 3 },
      createTime: 'yesterday',
    };
    expect(compareShape(recorded, actual, { wireOrder: true, sameValue: ['usageMetadata.serviceTier'] })).toEqual([
      '(root): keys in the order usageMetadata, candidates, batchStats, createTime; recorded candidates, usageMetadata, batchStats, createTime',
      'candidates[0].finishMessage: not in the recording ("x")',
      'candidates[0].content.parts: 2 items, recorded 1',
      'candidates[0].content.parts[0].thoughtSignature: missing (recorded "Eg==")',
      'usageMetadata.thoughtsTokenCount: not in the recording (3)',
      'usageMetadata: keys in the order totalTokenCount, promptTokenCount, serviceTier; recorded promptTokenCount, totalTokenCount, serviceTier',
      'usageMetadata.totalTokenCount: string "9", recorded number 9',
      'usageMetadata.serviceTier: "flex", recorded "standard"',
      'batchStats.requestCount: number 3, recorded string "3"',
      'createTime: "yesterday" is not a timestamp string as recorded ("2026-08-20T20:08:31.015405218Z")',
    ]);
  });

  it('leaves out what it is told to: allowed extras and absences, ignored subtrees, order when the recording has none', () => {
    const actual = {
      usageMetadata: { serviceTier: 'standard', promptTokenCount: 9, totalTokenCount: 9, thoughtsTokenCount: 3 },
      candidates: [{ content: { parts: [{ text: 'a' }], role: 'model' }, finishReason: 'STOP', index: 0 }],
      batchStats: { requestCount: '3' },
      createTime: '2026-01-01T00:00:00Z',
    };
    expect(
      compareShape(recorded, actual, {
        wireOrder: false,
        allowExtra: ['usageMetadata.thoughtsTokenCount'],
        allowMissing: ['candidates[*].content.parts[*].thoughtSignature'],
      }),
    ).toEqual([]);
    expect(compareShape({ models: [{ name: 'a', thinking: true }] }, { models: [{ name: 'b', thinking: true }, { name: 'c' }] }, { wireOrder: true, eachLikeFirst: ['models'] })).toEqual([
      'models[1].thinking: missing (recorded true)',
    ]);
  });
});
