import type { AnalyzedImage } from '../../analyze/analysis-result.ts';
import { hashCanonical } from '../../../lib/canonical-json.ts';
import { compareText } from '../../../lib/compare-text.ts';
import type { CompileSettings } from '../../../schemas/compile-settings.ts';

/** Changes exactly when the prompts could: a record, a template or a setting (not the records' order). */
export function fingerprintCompile(options: { records: readonly AnalyzedImage[]; templatesFingerprint: string; settings: CompileSettings }): string {
  const records = options.records
    .map((entry) => ({ sourcePath: entry.sourcePath, sha256: entry.sha256, mimeType: entry.mimeType, record: entry.record }))
    .sort((left, right) => compareText(left.sourcePath, right.sourcePath));
  return hashCanonical({ records, templates: options.templatesFingerprint, settings: options.settings, format: 1 });
}
