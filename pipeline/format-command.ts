/** The flags a user gave that decide which folders and backend a command works on: hints repeat them. */
export interface CommandFlags {
  input?: string;
  out?: string;
  workdir?: string;
  config?: string;
  backend?: string;
  mode?: string;
  only?: string;
}

/** Which of them each command takes, in the order they are written. */
const flagsOf = {
  run: ['input', 'out', 'workdir', 'config', 'backend', 'mode', 'only'],
  status: ['workdir', 'config', 'backend'],
} as const satisfies Record<string, readonly (keyof CommandFlags)[]>;

/** Pure: one argument as a POSIX shell reads it back unchanged (quoted only when it has to be). */
export function quoteShellArgument(argument: string): string {
  return /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replaceAll("'", `'\\''`)}'`;
}

/**
 * Pure: `chargen <command>` with the user's own flags, ready to paste, e.g. `chargen run --input pics --out art`:
 * a hint that said only `chargen run` would point at the default folders, which may be another project's.
 */
export function formatCommand(command: keyof typeof flagsOf, flags: CommandFlags = {}, leading: readonly string[] = []): string {
  const words = ['chargen', command, ...leading];
  for (const name of flagsOf[command]) {
    const value = flags[name];
    if (value !== undefined) words.push(`--${name}`, quoteShellArgument(value));
  }
  return words.join(' ');
}
