/** True for what a template or a rule treats as "no value": missing, null, '' or []. */
export function isEmptyValue(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}
