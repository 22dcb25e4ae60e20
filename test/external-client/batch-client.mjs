#!/usr/bin/env node
// Independent end-to-end client for the Gemini Batch API, written only from the
// public @google/genai SDK (README + node.d.ts) and the public Gemini Batch API
// docs (https://ai.google.dev/gemini-api/docs/batch-api).
//
// Usage:
//   GEMINI_API_KEY=... [GOOGLE_GEMINI_BASE_URL=...] [POLL_MS=1000] [TIMEOUT_MS=120000] \
//     node batch-client.mjs <inputImagesDir> <outputDir>
//
// Flow:
//   1. upload every PNG/JPEG in <inputImagesDir> with ai.files.upload
//   2. analysis batch (gemini-3-flash-preview) from an uploaded JSONL file, with a
//      structured-output responseSchema describing a character
//   3. poll, download the result JSONL, validate every line against the schema
//   4. image-generation batch (gemini-3-pro-image) from inline requests,
//      one portrait per analysed character; poll, decode, save <key>.png or .jpg, check the image
//   5. list batch jobs, delete the uploaded files
// Exit code 0 only if every step worked and every image came back.

import { GoogleGenAI, JobState, createPartFromUri, createPartFromText } from '@google/genai';
import { mkdtemp, readdir, readFile, writeFile, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// ---------------------------------------------------------------- settings ---

const ANALYSIS_MODEL = 'gemini-3-flash-preview';
const IMAGE_MODEL = 'gemini-3-pro-image';
const POLL_MS = Number(process.env.POLL_MS ?? 1000);
const TIMEOUT_MS = Number(process.env.TIMEOUT_MS ?? 120000);
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
const MOODS = ['happy', 'sad', 'angry', 'calm', 'excited', 'scared', 'curious', 'mysterious'];

const TERMINAL_STATES = new Set([
  JobState.JOB_STATE_SUCCEEDED,
  JobState.JOB_STATE_FAILED,
  JobState.JOB_STATE_CANCELLED,
  JobState.JOB_STATE_EXPIRED,
]);

// OpenAPI-subset schema (UPPERCASE types) as used by generationConfig.responseSchema.
const CHARACTER_SCHEMA = {
  type: 'OBJECT',
  description: 'A character depicted in the image.',
  properties: {
    name: { type: 'STRING', description: 'A fitting name for the character.' },
    species: { type: 'STRING', description: 'What kind of creature or person it is, e.g. "fox", "robot", "human".' },
    mood: { type: 'STRING', enum: MOODS, description: 'The dominant mood of the character.' },
    colours: {
      type: 'ARRAY',
      description: 'The main colours of the character, most dominant first.',
      items: { type: 'STRING' },
      minItems: 1,
    },
    age: { type: 'INTEGER', description: 'Approximate age in years.', minimum: 0 },
  },
  required: ['name', 'species', 'mood', 'colours', 'age'],
  propertyOrdering: ['name', 'species', 'mood', 'colours', 'age'],
};

const ANALYSIS_PROMPT =
  'You are helping build a cast of characters. Look at the attached image and describe ' +
  'the main character (or the main subject, imagined as a character). Give it a name, ' +
  'its species, its mood, its main colours and its approximate age in years.';

// ----------------------------------------------------------------- helpers ---

const log = (...args) => console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...args);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class CheckError extends Error {}
function check(condition, message) {
  if (!condition) throw new CheckError(message);
}

function keyFromFileName(fileName) {
  const base = path.basename(fileName, path.extname(fileName));
  const slug = base.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return slug || 'image';
}

function describeError(err) {
  if (err instanceof CheckError) return err.message;
  if (err && typeof err === 'object' && 'status' in err) {
    return `${err.name ?? 'Error'} (HTTP ${err.status}): ${err.message}`;
  }
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (cause: ${err.cause.code ?? err.cause.name}: ${err.cause.message})` : '';
    return `${err.name}: ${err.message}${cause}`;
  }
  return String(err);
}

async function pollBatch(ai, name, label) {
  const deadline = Date.now() + TIMEOUT_MS;
  let lastState;
  for (;;) {
    const job = await ai.batches.get({ name });
    if (job.state !== lastState) {
      log(`${label}: ${name} state=${job.state}`);
      lastState = job.state;
    }
    if (TERMINAL_STATES.has(job.state)) return job;
    if (Date.now() > deadline) {
      log(`${label}: timed out after ${TIMEOUT_MS} ms, cancelling ${name}`);
      try {
        await ai.batches.cancel({ name });
      } catch (err) {
        log(`${label}: cancel failed: ${describeError(err)}`);
      }
      throw new CheckError(`${label}: batch ${name} did not finish within ${TIMEOUT_MS} ms (last state ${job.state})`);
    }
    await sleep(POLL_MS);
  }
}

function requireSucceeded(job, label) {
  if (job.state !== JobState.JOB_STATE_SUCCEEDED) {
    const details = job.error ? ` error=${JSON.stringify(job.error)}` : '';
    throw new CheckError(`${label}: batch ${job.name} ended in ${job.state}${details}`);
  }
}

/** Concatenates the non-thought text parts of the first candidate. */
function responseText(response) {
  const parts = response?.candidates?.[0]?.content?.parts ?? [];
  return parts
    .filter((p) => typeof p.text === 'string' && !p.thought)
    .map((p) => p.text)
    .join('');
}

/** Checks a parsed analysis object against CHARACTER_SCHEMA; returns a list of problems. */
function validateCharacter(obj) {
  const problems = [];
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return ['response is not a JSON object'];
  for (const field of CHARACTER_SCHEMA.required) {
    if (!(field in obj)) problems.push(`missing required field "${field}"`);
  }
  if ('name' in obj && (typeof obj.name !== 'string' || obj.name.trim() === '')) problems.push('"name" is not a non-empty string');
  if ('species' in obj && (typeof obj.species !== 'string' || obj.species.trim() === '')) problems.push('"species" is not a non-empty string');
  if ('mood' in obj && !MOODS.includes(obj.mood)) problems.push(`"mood" ${JSON.stringify(obj.mood)} is not one of ${MOODS.join('|')}`);
  if ('colours' in obj) {
    if (!Array.isArray(obj.colours)) problems.push('"colours" is not an array');
    else if (obj.colours.length < 1) problems.push('"colours" is empty (minItems 1)');
    else if (!obj.colours.every((c) => typeof c === 'string')) problems.push('"colours" contains non-string items');
  }
  if ('age' in obj && (!Number.isInteger(obj.age) || obj.age < 0)) problems.push(`"age" ${JSON.stringify(obj.age)} is not a non-negative integer`);
  const extra = Object.keys(obj).filter((k) => !(k in CHARACTER_SCHEMA.properties));
  if (extra.length) problems.push(`unexpected extra fields: ${extra.join(', ')}`);
  return problems;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Validates PNG signature + IHDR chunk, returns {width, height}. */
function readPngSize(buf) {
  check(buf.length >= 33, `PNG too short (${buf.length} bytes)`);
  check(buf.subarray(0, 8).equals(PNG_SIGNATURE), `bytes do not start with the PNG signature (got ${buf.subarray(0, 8).toString('hex')})`);
  const ihdrLength = buf.readUInt32BE(8);
  const ihdrType = buf.toString('latin1', 12, 16);
  check(ihdrType === 'IHDR' && ihdrLength === 13, `first chunk is ${ihdrType} (length ${ihdrLength}), expected IHDR (length 13)`);
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  check(width > 0 && height > 0, `invalid IHDR size ${width}x${height}`);
  check(buf.includes(Buffer.from('IEND', 'latin1')), 'PNG has no IEND chunk (truncated?)');
  return { width, height };
}

/** Walks JPEG segments to the first SOFn frame header, returns {width, height}; checks the end marker. */
function readJpegSize(buf) {
  check(buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8, `bytes do not start with the JPEG SOI marker (got ${buf.subarray(0, 4).toString('hex')})`);
  check(buf[buf.length - 2] === 0xff && buf[buf.length - 1] === 0xd9, 'JPEG has no EOI marker (truncated?)');
  let offset = 2;
  while (offset + 4 <= buf.length) {
    check(buf[offset] === 0xff, `no JPEG marker at byte ${offset}`);
    const marker = buf[offset + 1];
    const length = buf.readUInt16BE(offset + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      const height = buf.readUInt16BE(offset + 5);
      const width = buf.readUInt16BE(offset + 7);
      check(width > 0 && height > 0, `invalid JPEG frame size ${width}x${height}`);
      return { width, height };
    }
    offset += 2 + length;
  }
  throw new Error('JPEG has no frame header (SOFn)');
}

/** The image's format by its magic bytes, and its size: PNG or JPEG (Gemini 3 image models answer JPEG). */
function readImageSize(buf) {
  const mimeType = sniffImageMime(buf);
  check(mimeType !== undefined, `bytes are neither PNG nor JPEG (got ${buf.subarray(0, 8).toString('hex')})`);
  return { mimeType, ...(mimeType === 'image/png' ? readPngSize(buf) : readJpegSize(buf)) };
}

function sniffImageMime(buf) {
  if (buf.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'image/jpeg';
  return undefined;
}

// -------------------------------------------------------------------- main ---

async function main() {
  const [inputDir, outputDir] = process.argv.slice(2);
  if (!inputDir || !outputDir) {
    console.error('usage: node batch-client.mjs <inputImagesDir> <outputDir>');
    return 2;
  }
  if (!process.env.GEMINI_API_KEY) {
    console.error('GEMINI_API_KEY is not set');
    return 2;
  }

  const ai = new GoogleGenAI({
    apiKey: process.env.GEMINI_API_KEY,
    apiVersion: 'v1beta',
    httpOptions: process.env.GOOGLE_GEMINI_BASE_URL ? { baseUrl: process.env.GOOGLE_GEMINI_BASE_URL } : undefined,
  });
  log(`client ready (base URL ${process.env.GOOGLE_GEMINI_BASE_URL ?? 'default'}, poll ${POLL_MS} ms, timeout ${TIMEOUT_MS} ms)`);

  await mkdir(outputDir, { recursive: true });
  const workDir = await mkdtemp(path.join(tmpdir(), 'batch-client-'));
  const uploaded = []; // every File we created, for clean-up
  const imageFiles = []; // { key, localPath, file }

  try {
    // ---- 1. upload input images -------------------------------------------
    const entries = (await readdir(inputDir, { withFileTypes: true }))
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
    check(entries.length > 0, `no .png/.jpg/.jpeg files found in ${inputDir}`);
    log(`found ${entries.length} image(s) in ${inputDir}`);

    const usedKeys = new Set();
    for (const name of entries) {
      const localPath = path.join(inputDir, name);
      const bytes = await readFile(localPath);
      const sniffed = sniffImageMime(bytes);
      check(sniffed, `${localPath} is neither a PNG nor a JPEG`);
      let key = keyFromFileName(name);
      for (let i = 2; usedKeys.has(key); i++) key = `${keyFromFileName(name)}-${i}`;
      usedKeys.add(key);

      // mimeType is inferred by the SDK from the file extension.
      const file = await ai.files.upload({ file: localPath, config: { displayName: name } });
      uploaded.push(file);
      check(file.name?.startsWith('files/'), `upload of ${name} returned no files/ name: ${JSON.stringify(file)}`);
      check(file.uri, `upload of ${name} returned no uri: ${JSON.stringify(file)}`);
      check(file.mimeType === sniffed, `upload of ${name}: server mimeType ${file.mimeType}, expected ${sniffed}`);
      if (file.sizeBytes !== undefined) {
        check(Number(file.sizeBytes) === bytes.length, `upload of ${name}: sizeBytes ${file.sizeBytes}, local size ${bytes.length}`);
      }
      log(`uploaded ${name} -> ${file.name} (${file.mimeType}, ${file.sizeBytes} bytes, state ${file.state})`);
      imageFiles.push({ key, localPath, file });
    }

    // Images are normally ACTIVE at once; wait if any is still PROCESSING.
    for (const entry of imageFiles) {
      const deadline = Date.now() + TIMEOUT_MS;
      while (entry.file.state === 'PROCESSING') {
        check(Date.now() < deadline, `${entry.file.name} still PROCESSING after ${TIMEOUT_MS} ms`);
        await sleep(POLL_MS);
        entry.file = await ai.files.get({ name: entry.file.name });
      }
      check(entry.file.state === undefined || entry.file.state === 'ACTIVE', `${entry.file.name} is in state ${entry.file.state}`);
    }

    // ---- 2. analysis batch from a JSONL file --------------------------------
    const jsonlLines = imageFiles.map(({ key, file }) =>
      JSON.stringify({
        key,
        request: {
          contents: [
            {
              role: 'user',
              parts: [createPartFromText(ANALYSIS_PROMPT), createPartFromUri(file.uri, file.mimeType)],
            },
          ],
          generationConfig: {
            responseMimeType: 'application/json',
            responseSchema: CHARACTER_SCHEMA,
          },
        },
      }),
    );
    const jsonlPath = path.join(workDir, 'analysis-requests.jsonl');
    await writeFile(jsonlPath, jsonlLines.join('\n') + '\n');
    log(`wrote ${jsonlLines.length} request line(s) to ${jsonlPath}`);

    // The SDK cannot infer a MIME type for .jsonl. The Batch API docs use 'jsonl', which the API has answered with
    // 400 "Unsupported MIME type: jsonl" (python-genai#1547); Google's own notebooks upload application/json.
    const requestsFile = await ai.files.upload({
      file: jsonlPath,
      config: { displayName: 'character-analysis-requests', mimeType: 'application/json' },
    });
    uploaded.push(requestsFile);
    check(requestsFile.name?.startsWith('files/'), `JSONL upload returned no files/ name: ${JSON.stringify(requestsFile)}`);
    log(`uploaded request file -> ${requestsFile.name} (${requestsFile.mimeType})`);

    let analysisJob = await ai.batches.create({
      model: ANALYSIS_MODEL,
      src: requestsFile.name,
      config: { displayName: `character-analysis-${Date.now()}` },
    });
    check(analysisJob.name?.startsWith('batches/'), `batches.create returned no batches/ name: ${JSON.stringify(analysisJob)}`);
    log(`created analysis batch ${analysisJob.name} (displayName=${analysisJob.displayName}, model=${analysisJob.model}, state=${analysisJob.state})`);

    analysisJob = await pollBatch(ai, analysisJob.name, 'analysis');
    requireSucceeded(analysisJob, 'analysis');
    const resultFileName = analysisJob.dest?.fileName;
    check(resultFileName, `analysis batch succeeded but dest.fileName is missing: dest=${JSON.stringify(analysisJob.dest)}`);

    const resultsPath = path.join(workDir, 'analysis-results.jsonl');
    await ai.files.download({ file: resultFileName, downloadPath: resultsPath });
    const resultText = await readFile(resultsPath, 'utf8');
    const resultLines = resultText.split('\n').filter((l) => l.trim() !== '');
    log(`downloaded ${resultFileName}: ${resultLines.length} line(s), ${Buffer.byteLength(resultText)} bytes`);

    const characters = new Map(); // key -> character
    const seenKeys = new Set();
    const problems = [];
    for (const [i, line] of resultLines.entries()) {
      let row;
      try {
        row = JSON.parse(line);
      } catch (err) {
        problems.push(`result line ${i + 1} is not valid JSON: ${err.message}`);
        continue;
      }
      const key = row.key;
      if (typeof key !== 'string') {
        problems.push(`result line ${i + 1} has no "key": ${line.slice(0, 200)}`);
        continue;
      }
      if (!usedKeys.has(key)) problems.push(`result line ${i + 1} has unknown key ${JSON.stringify(key)}`);
      if (seenKeys.has(key)) problems.push(`key ${key} appears more than once in the results`);
      seenKeys.add(key);
      if (row.error) {
        problems.push(`request ${key} failed: ${JSON.stringify(row.error)}`);
        continue;
      }
      if (!row.response) {
        problems.push(`result ${key} has neither "response" nor "error"`);
        continue;
      }
      const finish = row.response.candidates?.[0]?.finishReason;
      const text = responseText(row.response);
      if (!text) {
        problems.push(`result ${key} has no text (finishReason=${finish}): ${JSON.stringify(row.response).slice(0, 300)}`);
        continue;
      }
      let character;
      try {
        character = JSON.parse(text);
      } catch (err) {
        problems.push(`result ${key}: response text is not JSON (${err.message}): ${text.slice(0, 200)}`);
        continue;
      }
      const schemaProblems = validateCharacter(character);
      if (schemaProblems.length) {
        problems.push(`result ${key} does not match the schema: ${schemaProblems.join('; ')}`);
        continue;
      }
      characters.set(key, character);
    }
    for (const key of usedKeys) {
      if (!seenKeys.has(key)) problems.push(`no result line for key ${key}`);
    }
    check(problems.length === 0, `analysis results are not valid:\n  - ${problems.join('\n  - ')}`);

    log(`analysis summary (${characters.size} character(s)):`);
    for (const { key } of imageFiles) {
      const c = characters.get(key);
      log(`  ${key}: ${c.name} — ${c.species}, ${c.mood}, age ${c.age}, colours [${c.colours.join(', ')}]`);
    }

    // ---- 3. image-generation batch from inline requests ----------------------
    const keysInOrder = imageFiles.map((f) => f.key);
    const inlinedRequests = keysInOrder.map((key) => {
      const c = characters.get(key);
      const prompt =
        `A character portrait of ${/^[aeiou]/i.test(c.species) ? 'an' : 'a'} ${c.species} named ${c.name}, about ${c.age} years old, ` +
        `looking ${c.mood}. Colour palette: ${c.colours.join(', ')}. ` +
        'Head-and-shoulders composition, soft studio lighting, plain background, illustrated style.';
      return {
        contents: [{ role: 'user', parts: [{ text: prompt }] }],
        config: {
          responseModalities: ['IMAGE'],
          imageConfig: { aspectRatio: '3:4', imageSize: '1K' },
        },
        metadata: { key },
      };
    });

    let imageJob = await ai.batches.create({
      model: IMAGE_MODEL,
      src: inlinedRequests,
      config: { displayName: `character-portraits-${Date.now()}` },
    });
    check(imageJob.name?.startsWith('batches/'), `batches.create (inline) returned no batches/ name: ${JSON.stringify(imageJob)}`);
    log(`created image batch ${imageJob.name} with ${inlinedRequests.length} inline request(s) (state=${imageJob.state})`);

    imageJob = await pollBatch(ai, imageJob.name, 'images');
    requireSucceeded(imageJob, 'images');
    const inlined = imageJob.dest?.inlinedResponses;
    check(Array.isArray(inlined), `image batch succeeded but dest.inlinedResponses is missing: dest=${JSON.stringify(imageJob.dest)?.slice(0, 300)}`);
    check(inlined.length === inlinedRequests.length, `expected ${inlinedRequests.length} inlined responses, got ${inlined.length}`);

    const imageProblems = [];
    const written = new Set();
    for (const [i, item] of inlined.entries()) {
      // Responses are documented to come back in request order; metadata echoes our key.
      const key = item.metadata?.key ?? keysInOrder[i];
      if (item.metadata?.key === undefined) {
        log(`WARNING: inlined response #${i} has no metadata.key; using request order -> ${key}`);
      } else if (item.metadata.key !== keysInOrder[i]) {
        log(`note: inlined response #${i} is for ${item.metadata.key} (request order had ${keysInOrder[i]})`);
      }
      if (item.error) {
        imageProblems.push(`image request ${key} failed: ${JSON.stringify(item.error)}`);
        continue;
      }
      const parts = item.response?.candidates?.[0]?.content?.parts ?? [];
      const images = parts.filter((p) => p.inlineData?.data && !p.thought);
      if (images.length === 0) {
        const finish = item.response?.candidates?.[0]?.finishReason;
        imageProblems.push(`image response ${key} has no non-thought inlineData part (finishReason=${finish}, parts=${parts.length})`);
        continue;
      }
      const part = images[images.length - 1];
      const bytes = Buffer.from(part.inlineData.data, 'base64');
      let size;
      try {
        size = readImageSize(bytes);
      } catch (err) {
        imageProblems.push(`image ${key} (mimeType ${part.inlineData.mimeType}): ${err.message}`);
        continue;
      }
      if (part.inlineData.mimeType !== size.mimeType) {
        imageProblems.push(`image ${key}: bytes are ${size.mimeType} but inlineData.mimeType is ${part.inlineData.mimeType}`);
      }
      const outPath = path.join(outputDir, `${key}.${size.mimeType === 'image/png' ? 'png' : 'jpg'}`);
      await writeFile(outPath, bytes);
      written.add(key);
      const ratio = size.width / size.height;
      const ratioNote = Math.abs(ratio - 3 / 4) <= 0.02 ? '3:4 ok' : `NOT 3:4 (ratio ${ratio.toFixed(3)})`;
      log(`  ${key}: wrote ${outPath} — ${size.mimeType} ${size.width}x${size.height}, ${bytes.length} bytes, ${ratioNote}` +
        (images.length > 1 ? ` (picked last of ${images.length} image parts)` : ''));
      if (Math.abs(ratio - 3 / 4) > 0.02) {
        imageProblems.push(`image ${key} is ${size.width}x${size.height}, not the requested 3:4 aspect ratio`);
      }
    }
    for (const key of keysInOrder) {
      if (!written.has(key)) imageProblems.push(`no image written for ${key}`);
    }
    check(imageProblems.length === 0, `image results are not valid:\n  - ${imageProblems.join('\n  - ')}`);
    log(`all ${written.size} portrait(s) written to ${outputDir}`);

    // ---- 4. list batch jobs ------------------------------------------------
    const pager = await ai.batches.list({ config: { pageSize: 10 } });
    const firstPage = pager.page.length;
    const listedNames = [];
    for await (const job of pager) listedNames.push(job.name);
    log(`batches.list: ${firstPage} job(s) on the first page, ${listedNames.length} in total`);
    for (const job of [analysisJob, imageJob]) {
      check(listedNames.includes(job.name), `batches.list does not include ${job.name}`);
    }

    return 0;
  } finally {
    // ---- 5. clean up uploaded files ----------------------------------------
    let deleted = 0;
    for (const file of uploaded) {
      try {
        await ai.files.delete({ name: file.name });
        deleted++;
      } catch (err) {
        log(`failed to delete ${file.name}: ${describeError(err)}`);
        process.exitCode = 1;
      }
    }
    log(`deleted ${deleted}/${uploaded.length} uploaded file(s)`);
    if (deleted !== uploaded.length) {
      console.error('ERROR: not every uploaded file could be deleted');
    }
    await rm(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    if (code === 0 && !process.exitCode) log('SUCCESS: all steps completed');
    process.exit(process.exitCode || code);
  },
  (err) => {
    console.error(`ERROR: ${describeError(err)}`);
    if (!(err instanceof CheckError) && err?.stack) console.error(err.stack);
    process.exit(1);
  },
);
