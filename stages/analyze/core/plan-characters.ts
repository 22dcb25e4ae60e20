import { findServedModel } from '../../../schemas/gemini-models.ts';
import { compareText } from '../../../lib/compare-text.ts';
import type { AnalyzeSettings } from '../../../schemas/analyze-settings.ts';

/** What the rules below read of an input image. */
export interface ReferenceImage {
  /** Relative to the input folder, with `/` separators (the scan's own). */
  relativePath: string;
  sha256: string;
  width: number;
  height: number;
  sizeBytes: number;
}

/** One character: its name and its distinct references, most informative first. */
export interface PlannedCharacter<Image extends ReferenceImage> {
  name: string;
  references: Image[];
  /** Other names of bytes already among the references (a copy in the same folder): counted once. */
  duplicates: { image: Image; sameAs: Image }[];
}

/**
 * The character an image belongs to: the folder it lies in (`knight/front.png` → `knight/`), or the image itself when
 * it lies directly in the input folder (`knight.png`, as before characters were folders). Every folder is a character
 * of the images directly in it; a folder inside it is a character of its own (`heroes/knight/` beside `heroes/`), so
 * folders can sort characters into collections without merging them.
 */
export function findCharacterName(relativePath: string): string {
  const slash = relativePath.lastIndexOf('/');
  return slash === -1 ? relativePath : relativePath.slice(0, slash + 1);
}

/**
 * Most informative first: more pixels (more detail to keep), then more bytes (less compressed), then sha256. By
 * content only, so renaming a reference never reorders a character's requests or makes a paid answer new.
 */
export function compareReferences(left: ReferenceImage, right: ReferenceImage): number {
  return right.width * right.height - left.width * left.height || right.sizeBytes - left.sizeBytes || compareText(left.sha256, right.sha256);
}

/** Pure: the images grouped into characters (by name), each character's references distinct and in order. */
export function groupIntoCharacters<Image extends ReferenceImage>(images: readonly Image[]): PlannedCharacter<Image>[] {
  const byName = new Map<string, Image[]>();
  for (const image of images) {
    const name = findCharacterName(image.relativePath);
    const members = byName.get(name);
    if (members) members.push(image);
    else byName.set(name, [image]);
  }
  return [...byName.entries()]
    .sort(([left], [right]) => compareText(left, right))
    .map(([name, members]) => {
      const bySha = new Map<string, Image>();
      const duplicates: PlannedCharacter<Image>['duplicates'] = [];
      for (const image of [...members].sort((left, right) => compareText(left.relativePath, right.relativePath))) {
        const first = bySha.get(image.sha256);
        if (first) duplicates.push({ image, sameAs: first });
        else bySha.set(image.sha256, image);
      }
      return { name, references: [...bySha.values()].sort(compareReferences), duplicates };
    });
}

/** Input tokens Gemini 3 counts for an image at its default media resolution (Vertex model card of Gemini 3 Flash). */
export const analysisImageTokens = 1120;
/** Kept free of images in an analysis request: the instruction, the schema and the answer's own budget. */
const analysisTextTokens = 16_384;

/**
 * How many references one analysis request carries: `analyze.maxReferences`, and no more than fit the analysis
 * model's input tokens (from the catalog) at 1,120 tokens an image with room for the instruction; at least one.
 */
export function findAnalysisImageLimit(settings: Pick<AnalyzeSettings, 'model' | 'maxReferences'>): number {
  const inputTokenLimit = findServedModel(settings.model)?.inputTokenLimit;
  const byTokens = inputTokenLimit === undefined ? Number.POSITIVE_INFINITY : Math.floor((inputTokenLimit - analysisTextTokens) / analysisImageTokens);
  return Math.max(1, Math.min(settings.maxReferences, byTokens));
}

/** Pure: the references a request carries (the first `limit`, most informative first) and the ones left out. */
export function takeReferences<Image>(references: readonly Image[], limit: number): { sent: Image[]; leftOut: Image[] } {
  return { sent: references.slice(0, limit), leftOut: references.slice(limit) };
}
