// README.md and docs/*.md are read on GitHub and in a checkout: every relative link, anchor, repository path and
// `$schema` path in them must lead somewhere.
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
/** The repository's own folders: a code span starting with one of them names a file that must exist. */
const repositoryFolders = ['bench', 'bin', 'docs', 'emulator', 'pipeline', 'schemas', 'stages', 'templates', 'test'];

interface Document {
  path: string;
  /** The text with fenced blocks blanked (their links are examples, not links). */
  prose: string;
  /** The fenced blocks, whole. */
  blocks: string[];
}

async function readDocuments(): Promise<Document[]> {
  const docs = (await readdir(join(root, 'docs')).catch(() => [] as string[])).filter((name) => name.endsWith('.md')).map((name) => join(root, 'docs', name));
  return Promise.all(
    [join(root, 'README.md'), ...docs].map(async (path) => {
      const text = await readFile(path, 'utf8');
      const blocks = [...text.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
      return { path, prose: text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, ''), blocks };
    }),
  );
}

/** GitHub's anchor for a heading: lowercased, punctuation dropped, spaces as hyphens; repeats get -1, -2, … */
function listAnchors(document: Document): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of document.prose.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const text = (match[1] as string).replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const slug = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  for (const match of document.prose.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1] as string);
  return anchors;
}

/** Relative link targets: `[text](target)`, `![alt](target)`, `[label]: target`, and href/src in HTML. */
function listLinkTargets(document: Document): string[] {
  const prose = document.prose.replace(/`[^`\n]*`/g, '');
  const targets = [
    ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1] as string),
    ...[...prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((match) => match[1] as string),
    ...[...prose.matchAll(/\s(?:href|src)="([^"]+)"/g)].map((match) => match[1] as string),
  ];
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** Code spans that name a path of the repository: `pipeline/cli/run-cli.ts`, `docs/`, `../x.md`. */
function listRepositoryPaths(document: Document): string[] {
  const spans = [...document.prose.matchAll(/`([^`\n]+)`/g)].map((match) => match[1] as string);
  return spans.filter((span) => /^[\w./-]+$/.test(span) && (span.startsWith('../') || span.startsWith('./') || repositoryFolders.some((folder) => span.startsWith(`${folder}/`))));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function isInsideRepository(path: string): boolean {
  return path === root || path.startsWith(`${root}${sep}`);
}

describe('the README and docs/', () => {
  it('link only to files and anchors that exist, inside the repository', async () => {
    const documents = await readDocuments();
    const anchorsByPath = new Map(documents.map((document) => [document.path, listAnchors(document)]));
    const broken: string[] = [];
    for (const document of documents) {
      const name = relative(root, document.path);
      for (const target of listLinkTargets(document)) {
        const [pathPart = '', anchor] = decodeURI(target).split('#');
        const targetPath = pathPart === '' ? document.path : resolve(dirname(document.path), pathPart);
        if (!isInsideRepository(targetPath) || !(await exists(targetPath))) {
          broken.push(`${name}: ${target} (no such file in the repository)`);
          continue;
        }
        if (anchor === undefined) continue;
        const anchors = anchorsByPath.get(targetPath) ?? (targetPath.endsWith('.md') ? listAnchors({ path: targetPath, prose: await readFile(targetPath, 'utf8'), blocks: [] }) : new Set<string>());
        if (!anchors.has(anchor)) broken.push(`${name}: ${target} (no heading #${anchor} in ${relative(root, targetPath)})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('name only repository paths that exist, and a $schema path that resolves from the project folder', async () => {
    const documents = await readDocuments();
    const missing: string[] = [];
    let schemas = 0;
    for (const document of documents) {
      const name = relative(root, document.path);
      for (const path of listRepositoryPaths(document)) {
        const resolved = resolve(path.startsWith('.') ? dirname(document.path) : root, path);
        if (!isInsideRepository(resolved) || !(await exists(resolved))) missing.push(`${name}: ${path}`);
      }
      // A chargen.config.json sits in the project folder (the repository's root here): `$schema` is read from there.
      for (const text of [document.prose, ...document.blocks]) {
        for (const match of text.matchAll(/"\$schema":\s*"([^"]+)"/g)) {
          schemas += 1;
          const resolved = resolve(root, match[1] as string);
          if (!isInsideRepository(resolved) || !(await exists(resolved))) missing.push(`${name}: $schema ${match[1]}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(schemas).toBeGreaterThan(0);
  });
});
