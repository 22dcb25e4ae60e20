import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** The product folders, and what each may import besides itself (the layers of docs/architecture.md). */
export const allowedImports: Readonly<Record<string, readonly string[]>> = {
  bin: ['pipeline'],
  pipeline: ['stages', 'emulator', 'lib', 'schemas'],
  stages: ['lib', 'schemas'],
  emulator: ['lib', 'schemas'],
  lib: ['schemas'],
  schemas: [],
};

export interface ImportEdge {
  /** Paths relative to the repository, with `/`. */
  from: string;
  to: string;
}

function listSourceFiles(root: string, folder: string): string[] {
  const entries = readdirSync(join(root, folder), { withFileTypes: true });
  return entries.flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return listSourceFiles(root, path);
    return /\.(ts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Every relative import (static, re-export, dynamic) of the product folders, read from the files as text. */
export function readImportEdges(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of Object.keys(allowedImports).flatMap((folder) => listSourceFiles(root, folder))) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g)) {
      const target = relative(root, resolve(dirname(join(root, file)), match[2] ?? ''));
      edges.push({ from: file.split(sep).join('/'), to: target.split(sep).join('/') });
    }
  }
  return edges;
}

const topFolder = (path: string) => path.split('/')[0] ?? '';

/** Pure: the edges that break the layers, as sentences. */
export function findLayerViolations(edges: readonly ImportEdge[]): string[] {
  return edges
    .filter((edge) => {
      const from = topFolder(edge.from);
      const to = topFolder(edge.to);
      return from !== to && !(allowedImports[from] ?? []).includes(to);
    })
    .map((edge) => `${edge.from} imports ${edge.to}: ${topFolder(edge.from)}/ may import ${[topFolder(edge.from), ...(allowedImports[topFolder(edge.from)] ?? [])].join(', ')} only`);
}

/** Pure: import cycles between files, each as the chain of files that closes on itself. */
export function findImportCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of edges) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const target of next.get(file) ?? []) {
      if (state.get(target) === 'open') cycles.push([...stack.slice(stack.indexOf(target)), target]);
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of next.keys()) if (!state.has(file)) visit(file);
  return cycles;
}
