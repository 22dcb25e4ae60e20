import type { SchemaKind } from './check-response-schema.ts';
import type { JsonRecord } from './json-record.ts';

/** What generating one schema node needs: the document, where it is, and how far down recursion has gone. */

export type ValueHint = { name: string | undefined; description: string | undefined };
export type GenerationContext = { root: unknown; kind: SchemaKind };
export type NodeRequest = {
  context: GenerationContext;
  node: unknown;
  seed: string;
  hint: ValueHint;
  depth: number;
  referenceDepth: number;
  minimal: boolean;
};

// Nesting depth after which recursive schemas only get their required parts.
const RECURSION_DEPTH_LIMIT = 8;

/** Copies only the NodeRequest fields, so helper-specific extras never leak into children. */
export function createChildRequest(options: { parent: NodeRequest; changes: Partial<NodeRequest> }): NodeRequest {
  const { parent, changes } = options;
  return {
    context: parent.context,
    node: parent.node,
    seed: parent.seed,
    hint: parent.hint,
    depth: parent.depth,
    referenceDepth: parent.referenceDepth,
    minimal: parent.minimal,
    ...changes,
  };
}

export function isMinimal(request: NodeRequest): boolean {
  // Only recursion is cut short: a deep but finite schema without $ref is generated in full.
  return request.minimal || (request.depth >= RECURSION_DEPTH_LIMIT && request.referenceDepth > 0);
}

export function mergeHint(options: { hint: ValueHint; node: JsonRecord }): ValueHint {
  const { node, hint } = options;
  const description =
    typeof node['description'] === 'string'
      ? node['description']
      : typeof node['title'] === 'string'
        ? node['title']
        : hint.description;
  return { name: hint.name, description };
}
