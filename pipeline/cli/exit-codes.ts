/** Exit codes, as the README and `--help` list them. */
export const exitCodes = { done: 0, error: 1, usage: 2, deadLettered: 3, pending: 4 } as const;
