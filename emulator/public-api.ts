/**
 * `chargen/emulator`: the Gemini API emulator for other people's tests, without the pipeline. `serveEmulator` listens
 * on loopback (port 0 picks a free port) and gives the base URL to hand to `@google/genai`'s `httpOptions.baseUrl`;
 * `createEmulator` is the bare request handler, for a server of your own. Every option is in docs/emulator.md.
 */
export { createEmulator, type Emulator, type EmulatorDependencies } from './create-emulator.ts';
export { serveEmulator, type RunningEmulator } from './serve-emulator.ts';
export { emulatorOptionsSchema, type EmulatorOptions, type EmulatorOptionsInput } from './emulator-options.ts';
export { faultConfigSchema, type FaultConfig, type FaultConfigInput } from './fault-config.ts';
export type { Clock, OffsetClock } from './clock.ts';
export type { EmulatorStats } from './emulator-context.ts';
