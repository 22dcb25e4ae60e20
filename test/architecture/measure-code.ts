/**
 * Measures the product code for the architecture notes: imports between top folders, the longest functions and
 * the longest files. Run: `npx tsx test/architecture/measure-code.ts [repository]` (defaults to this checkout).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import ts from 'typescript';
import { readImportEdges } from './read-imports.js';

const productFolders = ['bin', 'schemas', 'lib', 'stages', 'emulator', 'pipeline', 'bench'];

function listFiles(root: string, folder: string): string[] {
  let entries;
  try {
    entries = readdirSync(join(root, folder), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return listFiles(root, path);
    return /\.(ts|js|mjs)$/.test(entry.name) ? [path.split(sep).join('/')] : [];
  });
}

interface FunctionLength {
  file: string;
  name: string;
  lines: number;
}

function measureFunctions(file: string, text: string): FunctionLength[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: FunctionLength[] = [];
  const nameOf = (node: ts.Node): string => {
    if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name) return node.name.getText();
    const parent = node.parent;
    if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
    if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
    return '(anonymous)';
  };
  const visit = (node: ts.Node) => {
    if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ file, name: nameOf(node), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export function measureCode(root: string) {
  const files = productFolders.flatMap((folder) => listFiles(root, folder));
  const fileLengths = files.map((file) => ({ file, lines: readFileSync(join(root, file), 'utf8').split('\n').length }));
  const functions = files.flatMap((file) => measureFunctions(file, readFileSync(join(root, file), 'utf8')));
  const counts = new Map<string, { imports: number; files: Set<string> }>();
  for (const edge of readImportEdges(root)) {
    const from = edge.from.split('/')[0] ?? '';
    const to = edge.to.split('/')[0] ?? '';
    if (from === to) continue;
    const key = `${from} -> ${to}`;
    const entry = counts.get(key) ?? { imports: 0, files: new Set<string>() };
    entry.imports += 1;
    entry.files.add(edge.from);
    counts.set(key, entry);
  }
  return { fileLengths, functions, counts };
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split(sep).join('/').split('/').pop() ?? '');
if (isMain) {
  const root = process.argv[2] ?? process.cwd();
  const { fileLengths, functions, counts } = measureCode(root);
  console.log('imports between folders (imports in files):');
  for (const [key, value] of [...counts].sort()) console.log(`  ${key}: ${value.imports} in ${value.files.size}`);
  const product = (path: string) => !path.startsWith('bench/');
  console.log('longest functions (product code):');
  for (const item of functions.filter((f) => product(f.file)).sort((a, b) => b.lines - a.lines).slice(0, 12)) console.log(`  ${item.lines} ${item.name} (${item.file})`);
  console.log('longest files (product code):');
  for (const item of fileLengths.filter((f) => product(f.file)).sort((a, b) => b.lines - a.lines).slice(0, 10)) console.log(`  ${item.lines} ${item.file}`);
  console.log(`functions over 80 lines: ${functions.filter((f) => product(f.file) && f.lines > 80).length}; files over 400 lines: ${fileLengths.filter((f) => product(f.file) && f.lines > 400).length}`);
  console.log('bench over 400 lines:', fileLengths.filter((f) => !product(f.file) && f.lines > 400).map((f) => `${f.file} ${f.lines}`).join(', ') || 'none');
}
