import { createHash } from 'node:crypto';
import { resourceExhausted, unavailable, type RpcStatus } from './api-error.ts';
import type { BlockOutcome, EndpointName, FaultConfig, JobOutcome } from './fault-config.ts';

export interface FaultInjector {
  config(): FaultConfig;
  replace(config: FaultConfig): void;
  /** `model`: the model the call names, for the 429's QuotaFailure dimensions. */
  drawEndpointFault(endpoint: EndpointName, options?: { model?: string }): RpcStatus | undefined;
  delayFor(endpoint: EndpointName): number;
  drawLineError(): boolean;
  takeJobOutcome(displayName: string): JobOutcome | undefined;
  takeDownloadCut(): boolean;
  findBlockMarker(text: string): BlockOutcome | undefined;
  injectedCounts(): Record<string, number>;
}

/**
 * Seeded dice, so that a faulty run can be replayed. Faults are drawn per call (a retry of the same request gets a
 * new draw), unlike answers, which are pure functions of the request.
 */
function createDice(seed: string): () => number {
  let counter = 0;
  return () => {
    const digest = createHash('sha256').update(`${seed}:${counter++}`).digest();
    return digest.readUInt32BE(0) / 0x1_0000_0000;
  };
}

export function createFaultInjector(initial: FaultConfig): FaultInjector {
  let current = initial;
  let roll = createDice(current.seed);
  let remainingOutcomes = current.jobOutcomes.map((rule) => ({ ...rule }));
  let remainingCuts = current.cutDownloads;
  const counts: Record<string, number> = {};
  const count = (kind: string) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
  };

  const endpointFault = (endpoint: EndpointName) => current.endpoints[endpoint] ?? current.endpoints['*'];

  return {
    config: () => current,
    replace(config) {
      current = config;
      roll = createDice(config.seed);
      remainingOutcomes = config.jobOutcomes.map((rule) => ({ ...rule }));
      remainingCuts = config.cutDownloads;
      // A new fault config (or a reset) starts its counts afresh.
      for (const kind of Object.keys(counts)) delete counts[kind];
    },
    drawEndpointFault(endpoint, options = {}) {
      const fault = endpointFault(endpoint);
      if (!fault || (fault.rate429 === 0 && fault.rate503 === 0)) return undefined;
      const draw = roll();
      if (draw < fault.rate429) {
        count(`429:${endpoint}`);
        return resourceExhausted({ retryDelaySeconds: current.retryDelaySeconds, ...(options.model !== undefined ? { model: options.model } : {}) });
      }
      if (draw < fault.rate429 + fault.rate503) {
        count(`503:${endpoint}`);
        return unavailable();
      }
      return undefined;
    },
    delayFor: (endpoint) => endpointFault(endpoint)?.delayMilliseconds ?? 0,
    drawLineError() {
      if (current.lineErrorRate === 0) return false;
      const hit = roll() < current.lineErrorRate;
      if (hit) count('lineError');
      return hit;
    },
    takeJobOutcome(displayName) {
      const rule = remainingOutcomes.find(
        (candidate) =>
          candidate.count > 0 &&
          (candidate.displayNameContains === undefined || displayName.includes(candidate.displayNameContains)),
      );
      if (!rule) return undefined;
      rule.count -= 1;
      count(`job:${rule.outcome}`);
      return rule.outcome;
    },
    takeDownloadCut() {
      if (remainingCuts <= 0) return false;
      remainingCuts -= 1;
      count('downloadCut');
      return true;
    },
    findBlockMarker(text) {
      for (const [marker, outcome] of Object.entries(current.blockMarkers)) {
        if (text.includes(marker)) return outcome;
      }
      return undefined;
    },
    injectedCounts: () => ({ ...counts }),
  };
}
