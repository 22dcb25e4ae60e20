import type { AnalysisRecord } from '../../../schemas/analysis.ts';
import { toCanonicalJson } from '../../../lib/canonical-json.ts';
import { isEmptyValue } from './is-empty-value.ts';
import type { CompileSettings } from '../../../schemas/compile-settings.ts';

/**
 * The config's rules, in order: `defaults` fill empty fields, `overrides` force fields, then each `when` rule sets
 * fields where a field equals a value. Field names were checked when the config was read.
 */
export function applyRules(record: AnalysisRecord, settings: Pick<CompileSettings, 'defaults' | 'overrides' | 'when'>): AnalysisRecord {
  const result: Record<string, unknown> = { ...record };
  for (const [field, value] of Object.entries(settings.defaults)) if (isEmptyValue(result[field])) result[field] = value;
  for (const [field, value] of Object.entries(settings.overrides)) result[field] = value;
  for (const rule of settings.when) {
    if (toCanonicalJson(result[rule.field]) === toCanonicalJson(rule.equals)) Object.assign(result, rule.set);
  }
  return result as AnalysisRecord;
}
