import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeNestedFolders, findNestedFolders } from '../../stages/analyze/find-nested-folders.ts';
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
    expect(describeNestedFolders(nested)).toBe('the output folder out [1]/ and the workspace .chargen/ are inside the input folder: left out of the scan, never read as input');
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
});
