import Handlebars from 'handlebars';
import { z } from 'zod';
import type { RequestLine } from '../../../lib/gemini/line-outcome.ts';
import { analysisRecordSchema, analysisFieldNames } from '../../../schemas/analysis.ts';
import { toOpenApiSchema } from '../../../lib/gemini/to-openapi-schema.ts';
import { hashCanonical } from '../../../lib/canonical-json.ts';
import type { AnalyzeSettings } from '../../../schemas/analyze-settings.ts';

/** The sampling parameters the user set, and no others. */
export function pickSamplingParameters(settings: Pick<AnalyzeSettings, 'temperature' | 'topP' | 'topK'>): Record<string, number> {
  return Object.fromEntries(Object.entries({ temperature: settings.temperature, topP: settings.topP, topK: settings.topK }).filter(([, value]) => value !== undefined)) as Record<string, number>;
}

/** Renders the analysis instruction from its template (strict: a field the template names must exist). */
export function renderAnalysisInstruction(templateText: string): string {
  const handlebars = Handlebars.create();
  const template = handlebars.compile(templateText, { strict: true, noEscape: true });
  const fields = analysisFieldNames.map((name) => ({ name, description: analysisRecordSchema.shape[name].description ?? '' }));
  return template({ fields }).trim();
}

/** The response schema, generated from the zod schema, in the form the settings ask for. */
export function buildResponseSchema(schemaField: AnalyzeSettings['schemaField']): Record<string, unknown> {
  const jsonSchema = z.toJSONSchema(analysisRecordSchema) as Record<string, unknown>;
  if (schemaField === 'responseJsonSchema') {
    const { $schema: _ignored, ...rest } = jsonSchema;
    return rest;
  }
  return toOpenApiSchema(jsonSchema);
}

/** What an analysis request of several references adds after the instruction: what the images are. */
export function describeAnalysisReferences(count: number): string {
  return `The ${count} images below are references of one and the same character, the most detailed first. Describe that one character as all of them show it together; where they disagree, follow the earlier image.`;
}

/**
 * One request per character (per distinct set of references): the instruction, then its references in the order
 * given. The key hashes what determines the answer (the images' bytes in that order, the model and the request with
 * the files' URIs left out), so re-uploading an expired file never makes an already-paid answer new. A character of
 * one image has the request and key an image had before characters were folders: its answer is never paid again.
 */
export function buildAnalysisRequest(options: {
  images: readonly { sha256: string; mimeType: string; fileUri: string }[];
  instruction: string;
  responseSchema: Record<string, unknown>;
  settings: AnalyzeSettings;
}): RequestLine {
  const { settings, images } = options;
  const generationConfig: Record<string, unknown> = {
    responseMimeType: 'application/json',
    [settings.schemaField]: options.responseSchema,
    // Sampling parameters only when the user set them: Gemini 3 guides say to leave them out.
    ...pickSamplingParameters(settings),
    ...(settings.thinkingLevel ? { thinkingConfig: { thinkingLevel: settings.thinkingLevel } } : {}),
  };
  const request = (fileUris: readonly string[]): Record<string, unknown> => ({
    contents: [
      {
        role: 'user',
        parts: [
          { text: options.instruction },
          ...(images.length > 1 ? [{ text: describeAnalysisReferences(images.length) }] : []),
          ...images.map((image, index) => ({ fileData: { fileUri: fileUris[index] ?? '', mimeType: image.mimeType } })),
        ],
      },
    ],
    generationConfig,
    ...(settings.safetySettings ? { safetySettings: settings.safetySettings } : {}),
  });
  const withoutUris = request(images.map(() => ''));
  const [only] = images;
  const key =
    images.length === 1 && only
      ? hashCanonical({ kind: 'analysis', model: settings.model, image: only.sha256, request: withoutUris })
      : hashCanonical({ kind: 'analysis', model: settings.model, images: images.map((image) => image.sha256), request: withoutUris });
  return { key, request: request(images.map((image) => image.fileUri)) };
}
