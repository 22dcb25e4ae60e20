/**
 * Peak RSS of chargen's own process while lib/vertex moves a file far larger than its memory's growth through
 * Cloud Storage with the real client: uploadObjectOnce of a local file (a resumable session above 8 MiB) and
 * downloadPredictions of the same bytes as a job's predictions file. Both stream, so the peak must not follow the
 * file's size. The emulator runs as a child process (`chargen emulator`), so its memory is not counted here.
 *
 * Run: npx tsx bench/vertex-storage-rss.ts [--megabytes 64]
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Storage } from '@google-cloud/storage';
import { downloadPredictions } from '../lib/vertex/download-predictions.ts';
import { uploadObjectOnce } from '../lib/vertex/upload-object.ts';
import { startEmulatorProcess } from '../test/support/chargen-process.ts';

function peakRssMegabytes(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((entry) => entry.startsWith('VmHWM:')) ?? '';
  return Math.round(Number(/(\d+)/.exec(line)?.[1] ?? 0) / 1024);
}

/** `megabytes` of JSONL, a line of about a mebibyte at a time (as an image result's base64 line), never held whole. */
function jsonLines(megabytes: number): Readable {
  let made = 0;
  return Readable.from(
    (function* () {
      while (made < megabytes) {
        made += 1;
        yield `{"status":"","response":{"data":"${String.fromCharCode(65 + (made % 26)).repeat(1024 * 1024 - 37)}"}}\n`;
      }
    })(),
  );
}

const { values } = parseArgs({ options: { megabytes: { type: 'string', default: '64' } } });
const megabytes = Number(values.megabytes);
const emulator = await startEmulatorProcess({ pendingMilliseconds: 1_000, runningMilliseconds: 1_000 });
const baseUrl = emulator.baseUrl;
const directory = await mkdtemp(join(tmpdir(), 'chargen-vertex-rss-'));
try {
  const storage = new Storage({ apiEndpoint: baseUrl, projectId: 'bench', retryOptions: { autoRetry: false } });
  const retry = { policy: { attempts: 1, initialDelayMilliseconds: 1, maxDelayMilliseconds: 1 }, environment: { sleep: async () => undefined, random: () => 0 } };
  // A warm-up through the same paths, so the baseline has the client's code loaded.
  const small = join(directory, 'small.jsonl');
  await writeFile(small, '{"warm":true}\n');
  await uploadObjectOnce({ storage, bucket: 'bench', objectName: 'warm/predictions.jsonl', path: small, mimeType: 'application/jsonl', retry });
  await downloadPredictions({ storage, outputDirectory: 'gs://bench/warm', destination: join(directory, 'warm-out.jsonl'), retry });
  const large = join(directory, 'large.jsonl');
  await pipeline(jsonLines(megabytes), createWriteStream(large));
  const baseline = peakRssMegabytes();
  await uploadObjectOnce({ storage, bucket: 'bench', objectName: 'job/predictions.jsonl', path: large, mimeType: 'application/jsonl', retry });
  const afterUpload = peakRssMegabytes();
  const result = await downloadPredictions({ storage, outputDirectory: 'gs://bench/job', destination: join(directory, 'out.jsonl'), retry });
  const afterDownload = peakRssMegabytes();
  const { size } = await stat(large);
  if (result.bytes !== size) throw new Error(`downloaded ${result.bytes} bytes of ${size}`);
  process.stdout.write(
    `${megabytes} MiB file: peak RSS ${baseline} MB before, ${afterUpload} MB after uploadObjectOnce (+${afterUpload - baseline}), ` +
      `${afterDownload} MB after downloadPredictions (+${afterDownload - afterUpload})\n`,
  );
} finally {
  await rm(directory, { recursive: true, force: true });
  await emulator.stop();
}
