import { isJsonRecord, type JsonRecord } from './json-record.ts';

/**
 * Resolves `#`, `#/json/pointer`, `#anchor` and `$id` references inside one
 * document; remote references are not fetched, so they stay unresolved.
 */
export function resolveJsonSchemaReference(options: { root: JsonRecord; reference: string }): unknown {
  const rootId = typeof options.root['$id'] === 'string' ? options.root['$id'] : undefined;
  const reference =
    rootId !== undefined && rootId !== '' && options.reference.startsWith(rootId)
      ? options.reference.slice(rootId.length)
      : options.reference;
  if (reference === '' || reference === '#') {
    return options.root;
  }
  if (reference.startsWith('#/')) {
    return followJsonPointer({ root: options.root, pointer: reference.slice(1) });
  }
  if (reference.startsWith('#')) {
    return findSubschema({ node: options.root, matches: (node) => node['$anchor'] === reference.slice(1) });
  }
  return findSubschema({ node: options.root, matches: (node) => node['$id'] === reference });
}

function followJsonPointer(options: { root: unknown; pointer: string }): unknown {
  let current: unknown = options.root;
  for (const rawSegment of options.pointer.split('/').slice(1)) {
    const segment = decodeURIComponent(rawSegment).replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(current)) {
      current = /^\d+$/.test(segment) ? current[Number(segment)] : undefined;
    } else if (isJsonRecord(current) && Object.hasOwn(current, segment)) {
      current = current[segment];
    } else {
      return undefined;
    }
    if (current === undefined) {
      return undefined;
    }
  }
  return current;
}

function findSubschema(options: { node: unknown; matches: (node: JsonRecord) => boolean }): JsonRecord | undefined {
  const { node, matches } = options;
  if (Array.isArray(node)) {
    for (const entry of node) {
      const found = findSubschema({ node: entry, matches });
      if (found !== undefined) {
        return found;
      }
    }
    return undefined;
  }
  if (!isJsonRecord(node)) {
    return undefined;
  }
  if (matches(node)) {
    return node;
  }
  for (const [key, value] of Object.entries(node)) {
    // `enum`, `const`, `default` and `examples` hold data that may look like schemas.
    if (key === 'enum' || key === 'const' || key === 'default' || key === 'examples') {
      continue;
    }
    const found = findSubschema({ node: value, matches });
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}
