/** `chunk 2 of 8`, said after a stage's line when a run has more than one chunk. */
export function formatChunkLabel(options: { index: number; count: number }): string | undefined {
  return options.count > 1 ? `chunk ${options.index + 1} of ${options.count}` : undefined;
}
