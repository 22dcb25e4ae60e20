import { createHash } from 'node:crypto';
import type { AnalyzedImage } from '../../analyze/analysis-result.ts';
import { hashCanonical, toCanonicalJson } from '../../../lib/canonical-json.ts';
import { compareText } from '../../../lib/compare-text.ts';
import type { CompileSettings } from '../../../schemas/compile-settings.ts';

/** A record as compile reads it: with its character's references (a renamed or added one changes the prompts). */
function toFingerprintEntry(entry: AnalyzedImage) {
  return {
    sourcePath: entry.sourcePath,
    sha256: entry.sha256,
    mimeType: entry.mimeType,
    record: entry.record,
    ...(entry.references ? { references: entry.references } : {}),
    ...(entry.otherReferences ? { otherReferences: entry.otherReferences } : {}),
  };
}

/** Changes exactly when the prompts could: a record, a template or a setting (not the records' order). */
export function fingerprintCompile(options: { records: readonly AnalyzedImage[]; templatesFingerprint: string; settings: CompileSettings }): string {
  const records = options.records.map(toFingerprintEntry).sort((left, right) => compareText(left.sourcePath, right.sourcePath));
  return hashCanonical({ records, templates: options.templatesFingerprint, settings: options.settings, format: 1 });
}

/**
 * fingerprintCompile a page of records at a time, for records read in order of their source paths: the same text is
 * hashed (`{"format":1,"records":[…],"settings":…,"templates":…}`, keys in canonical order), so the same fingerprint
 * comes out without the records all in memory.
 */
export function createCompileFingerprint(options: { templatesFingerprint: string; settings: CompileSettings }): { add(records: readonly AnalyzedImage[]): void; digest(): string } {
  const hash = createHash('sha256').update('{"format":1,"records":[');
  let first = true;
  return {
    add(records) {
      for (const record of records) {
        hash.update(`${first ? '' : ','}${toCanonicalJson(toFingerprintEntry(record))}`);
        first = false;
      }
    },
    digest: () => hash.update(`],"settings":${toCanonicalJson(options.settings)},"templates":${toCanonicalJson(options.templatesFingerprint)}}`).digest('hex'),
  };
}
