/** The emulator's notion of time. Injected so tests move time by hand instead of sleeping. */
export interface Clock {
  now(): number;
}

export interface ManualClock extends Clock {
  advance(milliseconds: number): void;
  set(epochMilliseconds: number): void;
}

export function createSystemClock(): Clock {
  return { now: () => Date.now() };
}

export function createManualClock(startEpochMilliseconds = Date.UTC(2026, 0, 1)): ManualClock {
  let current = startEpochMilliseconds;
  return {
    now: () => current,
    advance: (milliseconds) => {
      current += milliseconds;
    },
    set: (epochMilliseconds) => {
      current = epochMilliseconds;
    },
  };
}

/** A clock that runs `base` shifted by an offset that the admin surface can move (to expire files, say). */
export interface OffsetClock extends Clock {
  offsetMilliseconds(): number;
  shift(milliseconds: number): void;
  resetOffset(): void;
}

export function createOffsetClock(base: Clock): OffsetClock {
  let offset = 0;
  return {
    now: () => base.now() + offset,
    offsetMilliseconds: () => offset,
    shift: (milliseconds) => {
      offset += milliseconds;
    },
    resetOffset: () => {
      offset = 0;
    },
  };
}

/**
 * RFC 3339 with the fraction the real API writes: nanoseconds for batch times and a file's `expirationTime`,
 * microseconds for a file's `createTime` and `updateTime` (test/fixtures/recorded/files-crud.json).
 */
export function formatTimestamp(epochMilliseconds: number, precision: 'nanoseconds' | 'microseconds' = 'nanoseconds'): string {
  const iso = new Date(epochMilliseconds).toISOString();
  return `${iso.slice(0, -1)}${precision === 'nanoseconds' ? '000000' : '000'}Z`;
}
