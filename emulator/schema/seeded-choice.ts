import { createHash } from 'node:crypto';

/** Every choice the answer generator makes is drawn from sha256(seed, label), so one seed always gives one answer. */

export function rotateValues(options: { values: readonly string[]; seed: string; label: string }): string[] {
  const start = pickIndex({ seed: options.seed, label: options.label, count: options.values.length });
  return [...options.values.slice(start), ...options.values.slice(0, start)];
}

export function pickFrom(options: { values: readonly string[]; seed: string; label: string }): string {
  return options.values[pickIndex({ seed: options.seed, label: options.label, count: options.values.length })] ?? '';
}

export function pickIndex(options: { seed: string; label: string; count: number }): number {
  if (options.count <= 1) {
    return 0;
  }
  return Math.min(options.count - 1, Math.floor(drawUnit(options) * options.count));
}

export function drawUnit(options: { seed: string; label: string }): number {
  const digest = createHash('sha256').update(`${options.seed}\u0000${options.label}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

export function deriveSeed(options: { seed: string; label: string }): string {
  return createHash('sha256').update(`${options.seed}\u0000${options.label}`).digest('hex');
}
