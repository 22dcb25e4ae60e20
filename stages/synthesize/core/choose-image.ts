import { blobReferenceSchema, type BlobReference } from '../../../schemas/blob-reference.ts';
import { isRecord } from '../../../schemas/is-record.ts';

export interface ImagePart {
  blob: BlobReference;
  mimeType: string;
  thought: boolean;
  /** Where the part's `thoughtSignature` was stored (the bytes it encodes), when it carried one. */
  signature?: BlobReference;
  /** Position among the candidate's parts, for messages. */
  index: number;
}

export type ImageChoice =
  | {
      ok: true;
      image: ImagePart;
      /** Interim images the model drew before the final one (`thought: true`). */
      thoughtImages: ImagePart[];
      /** The final image was itself thought-flagged, because nothing else came. */
      onlyThoughts: boolean;
      textParts: string[];
      finishReason: string;
    }
  | { ok: false; reason: string; retryable: boolean };

function readInlineData(part: Record<string, unknown>): { blob: BlobReference; mimeType: string } | 'not-an-image' | 'not-stored' {
  const inline = part['inlineData'] ?? part['inline_data'];
  if (!isRecord(inline)) return 'not-an-image';
  const mimeType = inline['mimeType'] ?? inline['mime_type'];
  if (typeof mimeType === 'string' && !mimeType.startsWith('image/')) return 'not-an-image';
  const blob = blobReferenceSchema.safeParse(inline['blob']);
  if (!blob.success) return 'not-stored';
  return { blob: blob.data, mimeType: typeof mimeType === 'string' ? mimeType : 'application/octet-stream' };
}

/** A part's thought signature as the readers store it (`{ blob }`); a signature still inline is not kept. */
function readSignature(part: Record<string, unknown>): BlobReference | undefined {
  const signature = part['thoughtSignature'] ?? part['thought_signature'];
  if (!isRecord(signature)) return undefined;
  const blob = blobReferenceSchema.safeParse(signature['blob']);
  return blob.success ? blob.data : undefined;
}

/**
 * The final image is the last image part not flagged `thought`; Gemini 3 Pro Image may draw up to two interim
 * images first. When only thought images came, the last of them is taken (a client that waited for another hung).
 * Expects a response whose image data was already stored (`inlineData.blob`), and one the API itself did not refuse.
 */
export function chooseImage(response: Record<string, unknown>): ImageChoice {
  const candidates = Array.isArray(response['candidates']) ? response['candidates'] : [];
  const candidate = isRecord(candidates[0]) ? candidates[0] : {};
  const finishReason = typeof candidate['finishReason'] === 'string' ? candidate['finishReason'] : 'STOP';
  const content = isRecord(candidate['content']) ? candidate['content'] : {};
  const parts = Array.isArray(content['parts']) ? content['parts'] : [];
  const images: ImagePart[] = [];
  const textParts: string[] = [];
  for (const [index, part] of parts.entries()) {
    if (!isRecord(part)) continue;
    const thought = part['thought'] === true;
    if (typeof part['text'] === 'string' && !thought) textParts.push(part['text']);
    const inline = readInlineData(part);
    if (inline === 'not-stored') return { ok: false, reason: `image part ${index} has no stored data`, retryable: true };
    const signature = readSignature(part);
    if (inline !== 'not-an-image') images.push({ ...inline, thought, index, ...(signature ? { signature } : {}) });
  }
  const finals = images.filter((image) => !image.thought);
  const thoughtImages = images.filter((image) => image.thought);
  const image = finals.at(-1) ?? thoughtImages.at(-1);
  if (!image) {
    return { ok: false, reason: `no image in the response (finish reason ${finishReason}${textParts.length > 0 ? `, text: "${textParts.join(' ').slice(0, 200)}"` : ''})`, retryable: true };
  }
  return {
    ok: true,
    image,
    thoughtImages: thoughtImages.filter((part) => part !== image),
    onlyThoughts: finals.length === 0,
    textParts,
    finishReason,
  };
}
