/** `a, b, c` or, past `shown` names, `a, b, … and 4,998 more`: a warning names what it can read in one line. */
export function formatList(names: readonly string[], shown = 10): string {
  if (names.length <= shown) return names.join(', ');
  return `${names.slice(0, shown).join(', ')}, … and ${(names.length - shown).toLocaleString('en-US')} more`;
}
