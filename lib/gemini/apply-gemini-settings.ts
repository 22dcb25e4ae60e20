import type { GeminiSettings } from '../../schemas/gemini-settings.ts';
import type { RetryPolicy } from './call-with-retry.ts';

/**
 * How long an uploaded file must still live to be reused: in batch mode it must outlive the job that will reference
 * it (the deadline) plus the margin; a sync request reads it at once, so the margin alone.
 */
export function computeRequiredUploadLifetime(options: { settings: GeminiSettings; mode: 'batch' | 'sync' }): number {
  return options.settings.uploadSafetyMarginMilliseconds + (options.mode === 'batch' ? options.settings.jobDeadlineMilliseconds : 0);
}

/** The retry policy every API call of the layer follows, from the settings. */
export function toRetryPolicy(settings: GeminiSettings): RetryPolicy {
  return { attempts: settings.retryAttempts, initialDelayMilliseconds: settings.retryInitialMilliseconds, maxDelayMilliseconds: settings.retryMaxMilliseconds };
}
