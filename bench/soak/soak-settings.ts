import { timeBinary } from '../measure-peak-rss.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
export const chargenBinary = join(import.meta.dirname, '..', '..', 'bin', 'chargen.js');
export const useTime = existsSync(timeBinary);
export const rssMethod = useTime ? 'GNU time -v (ru_maxrss)' : '/proc/<pid>/status VmHWM polled every 50 ms';
export const apiKey = 'soak-bench-key-for-the-emulator-41c7';
export const analyzeModel = 'gemini-3-flash-preview';
export const imageModel = 'gemini-3-pro-image';
export const emulatorLatency = { pendingMilliseconds: 250, runningMilliseconds: 1_000 };
export const pollIntervalMilliseconds = 200;
/** Unkilled runs ending other than 0, 3 or 4 after which the series stops: a rerun that fails thrice will not recover. */
export const maxFailedReruns = 3;
/** Unkilled runs ending 4 (a job left to the next run) that are simply run again. */
export const maxHeldRuns = 5;
/** Reruns tried after the series ends 3, while retryable failures remain and their number still drops. */
export const maxSettleRuns = 3;
/** The share of kills aimed at a run's start-up rather than at its work. */
export const startUpKillShare = 0.1;

export const stageLine = /^(analyze|compile|synthesize): /;
export const analyzeDone = /^analyze: (\d+ distinct images?|\d+ records? unchanged)/;
export const synthesizePlacing = /^synthesize: \d+ images/;

/** Each fault the emulator injects, by the words a dead-letter reason carries when that fault caused it. */
export const reasonCategories: [string, RegExp][] = [
  ['line error 13 INTERNAL', /error 13 INTERNAL/],
  ['job EXPIRED', /ended JOB_STATE_EXPIRED/],
  ['job FAILED', /ended JOB_STATE_FAILED/],
  ['upload failed beyond retries (429/503)', /^upload failed/],
  ['cut download', /download of files\/batch-/],
  ['job left to the next run (its polls failed beyond retries)', /could not be followed/],
  ['endpoint 429/503 beyond retries', /RESOURCE_EXHAUSTED|UNAVAILABLE|\b429\b|\b503\b/],
];
