import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeLeftOut, findNestedFolders } from '../../stages/analyze/find-nested-folders.ts';
import { scanImages } from '../../stages/analyze/scan-images.ts';
import { createSamplePng } from '../support/sample-images.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'chargen-scan-'));
});
afterEach(async () => rm(root, { recursive: true, force: true }));

const patterns = ['**/*.{png,jpg,jpeg,webp}'];

describe('the folders chargen writes to are never read as input', () => {
  it('leaves out an output folder and a workspace inside the input folder, whatever their names hold', async () => {
    const input = join(root, 'pictures');
    const out = join(input, 'out [1]');
    const workspace = join(input, '.chargen');
    for (const folder of [input, out, join(workspace, 'blobs')]) await mkdir(folder, { recursive: true });
    await writeFile(join(input, 'grey.png'), createSamplePng('grey'));
    await writeFile(join(out, 'grey.png'), createSamplePng('output'));
    await writeFile(join(workspace, 'blobs', 'stored.png'), createSamplePng('stored'));
    const exclude = [{ role: 'output folder', path: out }, { role: 'workspace', path: workspace }];
    const scanned = await scanImages({ inputDirectory: input, patterns, ignore: [], exclude });
    expect(scanned.map((entry) => entry.relativePath)).toEqual(['grey.png']);
    const nested = await findNestedFolders({ inputDirectory: input, folders: exclude });
    expect(describeLeftOut({ nested, chargenOutputs: { count: 0 } })).toBe('left out of the scan, never read as input: the output folder out [1]/ and the workspace .chargen/ are inside the input folder');
  });

  it('finds a folder reached through a link to the input folder, and leaves alone folders outside it or the input folder itself', async () => {
    const input = join(root, 'pictures');
    await mkdir(join(input, 'out'), { recursive: true });
    await symlink(input, join(root, 'linked'));
    const folders = [
      { role: 'output folder', path: join(root, 'linked', 'out') },
      { role: 'workspace', path: join(root, '.chargen') },
      { role: 'earlier output folder', path: input },
    ];
    expect(await findNestedFolders({ inputDirectory: input, folders })).toEqual([{ role: 'output folder', relativePath: 'out' }]);
  });

  it("leaves out any image chargen made (a chargen sidecar beside it names it), wherever it is; a user's image stays", async () => {
    const input = join(root, 'pictures');
    const old = join(input, 'old-out');
    await mkdir(old, { recursive: true });
    await writeFile(join(input, 'grey.png'), createSamplePng('grey'));
    for (const name of ['grey.jpg', 'grey.thought-1.png', 'mine.png', 'copied.png']) await writeFile(join(old, name), createSamplePng(name));
    const sidecar = { kind: 'chargen-image', image: { file: 'grey.jpg' }, thoughtImages: [{ file: 'grey.thought-1.png' }] };
    await writeFile(join(old, 'grey.json'), JSON.stringify(sidecar));
    // A sidecar that does not name the image beside it (copied under another name) does not make it chargen's.
    await writeFile(join(old, 'copied.json'), JSON.stringify(sidecar));
    await writeFile(join(old, 'mine.json'), JSON.stringify({ kind: 'my-notes' }));
    const leftOut: string[] = [];
    const scanned = await scanImages({ inputDirectory: input, patterns, ignore: [], onChargenOutput: (path) => leftOut.push(path) });
    expect(scanned.filter((entry) => entry.kind !== 'unmatched').map((entry) => entry.relativePath)).toEqual(['grey.png', 'old-out/copied.png', 'old-out/mine.png']);
    // The left-out image's own sidecar is chargen's too; the other JSON files are named as files the scan did not take.
    expect(scanned.filter((entry) => entry.kind === 'unmatched').map((entry) => entry.relativePath)).toEqual(['old-out/copied.json', 'old-out/mine.json']);
    expect(leftOut).toEqual(['old-out/grey.jpg', 'old-out/grey.thought-1.png']);
    expect(describeLeftOut({ nested: [], chargenOutputs: { count: 2, example: 'old-out/grey.jpg' } })).toBe(
      'left out of the scan, never read as input: 2 images chargen made earlier (a chargen sidecar beside each, e.g. old-out/grey.jpg; copy one without its sidecar to use it as input)',
    );
  });
});
