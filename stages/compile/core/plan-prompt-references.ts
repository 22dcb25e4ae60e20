import { findServedModel } from '../../../schemas/gemini-models.ts';
import type { PromptReference } from '../../../schemas/generation-prompt.ts';
import type { AnalyzedImage } from '../../analyze/analysis-result.ts';

/**
 * Pure: the references an image request of this character carries, and the ones left out. All of the character's
 * references, in the order its record keeps them (most informative first: the ones its analysis drew on, then the
 * ones over the analysis budget), up to the image model's maxReferenceImages from the catalog (a model the catalog
 * does not know gets them all, and the API judges). A record from before characters has its one image.
 */
export function planPromptReferences(options: { analyzed: AnalyzedImage; model: string }): { references: PromptReference[]; leftOut: string[] } {
  const { analyzed } = options;
  const all = [...(analyzed.references ?? [{ path: analyzed.sourcePath, sha256: analyzed.sha256, mimeType: analyzed.mimeType }]), ...(analyzed.otherReferences ?? [])].map(
    (reference): PromptReference => ({ path: reference.path, sha256: reference.sha256, mimeType: reference.mimeType }),
  );
  const limit = findServedModel(options.model)?.image?.maxReferenceImages ?? all.length;
  return { references: all.slice(0, limit), leftOut: all.slice(limit).map((reference) => reference.path) };
}

/** The line a prompt of several references ends with: what the attached images are. */
export function describeCharacterReferences(count: number): string {
  return `The ${count} attached images are references of this same character, the most detailed first: keep its face, build, clothing and colours as they show them.`;
}
