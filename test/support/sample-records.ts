import { createHash } from 'node:crypto';
import { z } from 'zod';
import { generateSchemaValue } from '../../emulator/schema/answer-schema.ts';
import { analysisRecordSchema } from '../../schemas/analysis.ts';
import type { AnalyzedImage } from '../../stages/analyze/analysis-result.ts';

const jsonSchema = z.toJSONSchema(analysisRecordSchema);

/** Valid analysed images with varied records, as the analyze stage would leave them. */
export function createAnalyzedImages(count: number, prefix = 'hero'): AnalyzedImage[] {
  return Array.from({ length: count }, (_unused, index) => {
    const sha256 = createHash('sha256').update(`${prefix}-${index}`).digest('hex');
    return {
      sourcePath: `${prefix}-${String(index).padStart(5, '0')}.png`,
      sha256,
      mimeType: 'image/png',
      width: 320,
      height: 480,
      model: 'gemini-3-flash-preview',
      key: sha256,
      record: analysisRecordSchema.parse(generateSchemaValue({ schema: jsonSchema, kind: 'json-schema', seed: `${prefix}-${index}` })),
    };
  });
}
