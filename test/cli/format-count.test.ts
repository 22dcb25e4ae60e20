import { describe, expect, it } from 'vitest';
import { formatCount, formatUsd } from '../../lib/format-count.ts';

describe('counts and money as people write them', () => {
  it('counts take the singular for one only', () => {
    expect([formatCount(0, 'image'), formatCount(1, 'image'), formatCount(2, 'image'), formatCount(1, 'batch job')]).toEqual(['0 images', '1 image', '2 images', '1 batch job']);
    expect(formatCount(12_000, 'request')).toBe('12,000 requests');
  });

  it('dollars: nothing, a trace, fractions of a dollar, and dollars', () => {
    expect([0, 0.0004, 0.002, 0.0024, 0.013, 0.42, 0.4, 1, 12.5, 1234.567].map(formatUsd)).toEqual([
      '$0', 'under $0.001', '$0.002', '$0.002', '$0.013', '$0.42', '$0.40', '$1.00', '$12.50', '$1,234.57',
    ]);
  });
});
