/**
 * Compares the structure of an answer with a recorded one and lists every difference with its JSON path
 * (`candidates[0].content.parts[1].thoughtSignature: …`), so one run shows all that is wrong, not the first thing.
 *
 * What is compared: at every object, the key set (missing and extra keys) and, when the recording shows wire order,
 * the order of the keys both have; at every value, its JSON type, and for strings whether they are int64 strings
 * ("9") or RFC 3339 timestamps as the recording's are; arrays element by element (their lengths too). Values are not
 * compared unless a path is named in `sameValue`.
 */
export interface ShapeOptions {
  /** The recording keeps the server's key order (maruel/genai, vercel/ai captures), so order is compared. */
  wireOrder: boolean;
  /** Paths that may exist only in the answer (a field the recording predates, or one its author left out). */
  allowExtra?: readonly string[];
  /** Paths that may be absent from the answer. */
  allowMissing?: readonly string[];
  /** Paths whose values must be equal (deeply). */
  sameValue?: readonly string[];
  /** Paths not compared at all (a subtree whose content is free, such as a text's wording). */
  ignore?: readonly string[];
  /** Array paths whose every element is compared with the recording's first one, whatever the lengths. */
  eachLikeFirst?: readonly string[];
}

type Kind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

const int64Pattern = /^-?\d+$/;
const timestampPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function kindOf(value: unknown): Kind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  if (type === 'object') return 'object';
  if (type === 'string' || type === 'number' || type === 'boolean') return type;
  throw new Error(`not a JSON value: ${type}`);
}

function stringKind(value: string): 'int64' | 'timestamp' | undefined {
  if (int64Pattern.test(value)) return 'int64';
  if (timestampPattern.test(value)) return 'timestamp';
  return undefined;
}

/** `a.b[*].c` matches `a.b[3].c`; a pattern also matches everything under it. */
function toMatcher(patterns: readonly string[] | undefined): (path: string) => boolean {
  const expressions = (patterns ?? []).map(
    (pattern) => new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\[\\\*\\\]/g, '\\[\\d+\\]')}(?:$|[.[])`),
  );
  return (path) => expressions.some((expression) => expression.test(path));
}

function joinPath(path: string, key: string): string {
  const segment = /^[A-Za-z_$@][\w$@]*$/.test(key) ? key : JSON.stringify(key);
  if (path === '') return segment.startsWith('"') ? `[${segment}]` : segment;
  return segment.startsWith('"') ? `${path}[${segment}]` : `${path}.${segment}`;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function compareShape(recorded: unknown, actual: unknown, options: ShapeOptions): string[] {
  const allowExtra = toMatcher(options.allowExtra);
  const allowMissing = toMatcher(options.allowMissing);
  const sameValue = toMatcher(options.sameValue);
  const ignore = toMatcher(options.ignore);
  const eachLikeFirst = toMatcher(options.eachLikeFirst);
  const differences: string[] = [];
  const report = (path: string, message: string) => differences.push(`${path === '' ? '(root)' : path}: ${message}`);

  const visit = (expected: unknown, found: unknown, path: string) => {
    if (ignore(path) && path !== '') return;
    const expectedKind = kindOf(expected);
    const foundKind = kindOf(found);
    if (expectedKind !== foundKind) {
      report(path, `${foundKind} ${describe(found)}, recorded ${expectedKind} ${describe(expected)}`);
      return;
    }
    if (sameValue(path) && JSON.stringify(expected) !== JSON.stringify(found)) {
      report(path, `${describe(found)}, recorded ${describe(expected)}`);
      return;
    }
    if (expectedKind === 'string') {
      const expectedString = stringKind(expected as string);
      if (expectedString !== undefined && stringKind(found as string) !== expectedString) {
        report(path, `${describe(found)} is not ${expectedString === 'int64' ? 'an int64' : 'a timestamp'} string as recorded (${describe(expected)})`);
      }
      return;
    }
    if (expectedKind === 'array') {
      const expectedItems = expected as unknown[];
      const foundItems = found as unknown[];
      if (eachLikeFirst(path)) {
        if (expectedItems.length > 0) foundItems.forEach((item, index) => visit(expectedItems[0], item, `${path}[${index}]`));
        return;
      }
      if (expectedItems.length !== foundItems.length) report(path, `${foundItems.length} items, recorded ${expectedItems.length}`);
      for (let index = 0; index < Math.min(expectedItems.length, foundItems.length); index += 1) {
        visit(expectedItems[index], foundItems[index], `${path}[${index}]`);
      }
      return;
    }
    if (expectedKind !== 'object') return;
    const expectedObject = expected as Record<string, unknown>;
    const foundObject = found as Record<string, unknown>;
    const expectedKeys = Object.keys(expectedObject);
    const foundKeys = Object.keys(foundObject);
    for (const key of expectedKeys) {
      const childPath = joinPath(path, key);
      if (!(key in foundObject) && !allowMissing(childPath) && !ignore(childPath)) report(childPath, `missing (recorded ${describe(expectedObject[key])})`);
    }
    for (const key of foundKeys) {
      const childPath = joinPath(path, key);
      if (!(key in expectedObject) && !allowExtra(childPath) && !ignore(childPath)) report(childPath, `not in the recording (${describe(foundObject[key])})`);
    }
    if (options.wireOrder) {
      const expectedOrder = expectedKeys.filter((key) => key in foundObject);
      const foundOrder = foundKeys.filter((key) => key in expectedObject);
      if (expectedOrder.join('\u0000') !== foundOrder.join('\u0000')) report(path, `keys in the order ${foundOrder.join(', ')}; recorded ${expectedOrder.join(', ')}`);
    }
    for (const key of expectedKeys) if (key in foundObject) visit(expectedObject[key], foundObject[key], joinPath(path, key));
  };

  visit(recorded, actual, '');
  return differences;
}
