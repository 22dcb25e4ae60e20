import { hashCanonical } from '../../../lib/canonical-json.ts';
import type { AnalyzeSettings } from '../../../schemas/analyze-settings.ts';

/**
 * What analyze consumes, cheaply: each input's path, size and modification time (from the folder's listing, not its
 * bytes), the settings, the instruction template, the backend and the code.
 */
export function fingerprintAnalyze(options: { files: readonly (readonly [string, number, number])[]; settings: AnalyzeSettings; template: string; backend: string; codeVersion: string }): string {
  return hashCanonical({ files: options.files, settings: options.settings, template: options.template, backend: options.backend, code: options.codeVersion });
}
