import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePrompts } from '../../stages/compile/core/compile-prompts.ts';
import { createCompileFingerprint, fingerprintCompile } from '../../stages/compile/core/fingerprint-compile.ts';
import { createSynthesizeFingerprint, fingerprintSynthesize } from '../../stages/synthesize/core/fingerprint-synthesize.ts';
import { compileSettingsSchema } from '../../schemas/compile-settings.ts';
import { synthesizeSettingsSchema } from '../../schemas/synthesize-settings.ts';
import { compilePromptTemplates, readTemplateSources } from '../../stages/compile/load-prompt-templates.ts';
import { createAnalyzedImages } from '../support/sample-records.ts';

const templates = compilePromptTemplates(await readTemplateSources(join(import.meta.dirname, '..', '..', 'templates')));

// A run reads the checkpoints back a page at a time: the fingerprints it computes so must be the ones computed over
// the whole lists, or a workspace moved from the JSON files would find every stage out of date.
describe('fingerprints computed a page at a time', () => {
  const records = createAnalyzedImages(25).sort((left, right) => (left.sourcePath < right.sourcePath ? -1 : 1));
  const settings = compileSettingsSchema.parse({ variants: 2 });

  it('compile: the same as over every record at once, however the pages are cut', () => {
    const whole = fingerprintCompile({ records, templatesFingerprint: templates.fingerprint, settings });
    for (const size of [1, 7, 25]) {
      const streamed = createCompileFingerprint({ templatesFingerprint: templates.fingerprint, settings });
      for (let start = 0; start < records.length; start += size) streamed.add(records.slice(start, start + size));
      expect(streamed.digest()).toBe(whole);
    }
    const empty = createCompileFingerprint({ templatesFingerprint: templates.fingerprint, settings });
    expect(empty.digest()).toBe(fingerprintCompile({ records: [], templatesFingerprint: templates.fingerprint, settings }));
  });

  it('synthesize: the same as over every prompt at once', () => {
    const prompts = compilePrompts({ records, templates, settings });
    const context = { settings: synthesizeSettingsSchema.parse({}), outputDirectory: '/tmp/out "quoted"', backend: 'emulator', codeVersion: '1.2.3' };
    const streamed = createSynthesizeFingerprint(context);
    for (let start = 0; start < prompts.length; start += 9) streamed.add(prompts.slice(start, start + 9));
    expect(streamed.digest()).toBe(fingerprintSynthesize({ ...context, prompts }));
  });
});
