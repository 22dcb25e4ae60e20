/** Pure: a count with its noun, singular for one (`1 image`, `2 images`, `0 images`); `plural` for irregular nouns. */
export function formatCount(count: number, noun: string, plural = `${noun}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? noun : plural}`;
}

/**
 * Pure: an amount in dollars as people write it: `$0` for nothing, `under $0.001` for a trace, three decimals below a
 * dollar with a trailing zero dropped (`$0.002`, `$0.42`), cents above (`$12.50`).
 */
export function formatUsd(amount: number): string {
  if (amount <= 0) return '$0';
  if (amount < 0.001) return 'under $0.001';
  if (amount >= 1) return `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `$${amount.toFixed(3).replace(/(\.\d\d)0$/, '$1')}`;
}
