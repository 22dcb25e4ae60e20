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

/**
 * One request per distinct image. The key hashes what determines the answer (the image's bytes, the model and the
 * request with the file's URI left out), so re-uploading an expired file never makes an already-paid answer new.
 */
export function buildAnalysisRequest(options: {
  image: { sha256: string; mimeType: string; fileUri: string };
  instruction: string;
  responseSchema: Record<string, unknown>;
  settings: AnalyzeSettings;
}): RequestLine {
  const { settings } = options;
  const generationConfig: Record<string, unknown> = {
    responseMimeType: 'application/json',
    [settings.schemaField]: options.responseSchema,
    // Sampling parameters only when the user set them: Gemini 3 guides say to leave them out.
    ...pickSamplingParameters(settings),
    ...(settings.thinkingLevel ? { thinkingConfig: { thinkingLevel: settings.thinkingLevel } } : {}),
  };
  const request = (fileUri: string): Record<string, unknown> => ({
    contents: [{ role: 'user', parts: [{ text: options.instruction }, { fileData: { fileUri, mimeType: options.image.mimeType } }] }],
    generationConfig,
    ...(settings.safetySettings ? { safetySettings: settings.safetySettings } : {}),
  });
  const key = hashCanonical({ kind: 'analysis', model: settings.model, image: options.image.sha256, request: request('') });
  return { key, request: request(options.image.fileUri) };
}
