// The layers the folders promise are the ones the imports follow (docs/architecture.md): read from the files, so
// that they stay true.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findImportCycles, findLayerViolations, readImportEdges } from './read-imports.ts';

const root = join(import.meta.dirname, '..', '..');

describe('the layers', () => {
  const edges = readImportEdges(root);

  it('reads the imports of every product folder', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ from: 'stages/analyze/core/fingerprint-analyze.ts', to: 'lib/canonical-json.ts' });
  });

  it('imports only downwards: bin → pipeline → stages, emulator → lib → schemas', () => {
    expect(findLayerViolations(edges)).toEqual([]);
  });

  it('has no import cycles between files', () => {
    expect(findImportCycles(edges).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('would catch a stage importing pipeline/, lib importing a stage, and a cycle', () => {
    expect(findLayerViolations([{ from: 'stages/analyze/analyze-step.ts', to: 'pipeline/pipeline-context.ts' }])).toEqual([
      'stages/analyze/analyze-step.ts imports pipeline/pipeline-context.ts: stages/ may import stages, lib, schemas only',
    ]);
    expect(findLayerViolations([{ from: 'lib/gemini/batch-executor.ts', to: 'stages/synthesize/core/choose-image.ts' }])).toHaveLength(1);
    expect(findImportCycles([{ from: 'lib/a.ts', to: 'lib/b.ts' }, { from: 'lib/b.ts', to: 'lib/a.ts' }])).toEqual([['lib/a.ts', 'lib/b.ts', 'lib/a.ts']]);
  });
});
