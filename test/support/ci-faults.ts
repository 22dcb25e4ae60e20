import type { FaultConfigInput } from '../../emulator/fault-config.ts';

/**
 * The faults the reliability suite runs under, and the soak at scale: 30% 429/503 with RetryInfo on every endpoint,
 * 10% line errors, one analyze job EXPIRED, one synthesize job FAILED, one cut result download.
 */
export function createCiFaults(seed: string): FaultConfigInput {
  return {
    seed,
    endpoints: { '*': { rate429: 0.15, rate503: 0.15 } },
    retryDelaySeconds: 1,
    lineErrorRate: 0.1,
    jobOutcomes: [
      { outcome: 'EXPIRED', displayNameContains: '-analyze-', count: 1 },
      { outcome: 'FAILED', displayNameContains: '-synthesize-', count: 1 },
    ],
    cutDownloads: 1,
  };
}
