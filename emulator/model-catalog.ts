/** The models the emulator answers for; any other name is a 404, as on the real API. */
export interface ModelInfo {
  name: string;
  generatesImages: boolean;
  /** Input token limit, to reject absurd requests the way the real API does. */
  inputTokenLimit: number;
  /** `imageConfig.imageSize` values it takes (2.5 Flash Image renders 1K only). */
  imageSizes?: readonly string[];
}

const catalog: readonly ModelInfo[] = [
  { name: 'gemini-3-flash-preview', generatesImages: false, inputTokenLimit: 1_048_576 },
  { name: 'gemini-3-pro-preview', generatesImages: false, inputTokenLimit: 1_048_576 },
  { name: 'gemini-3.1-pro-preview', generatesImages: false, inputTokenLimit: 1_048_576 },
  { name: 'gemini-3.1-flash-lite-preview', generatesImages: false, inputTokenLimit: 1_048_576 },
  { name: 'gemini-2.5-flash', generatesImages: false, inputTokenLimit: 1_048_576 },
  { name: 'gemini-2.5-flash-lite', generatesImages: false, inputTokenLimit: 1_048_576 },
  { name: 'gemini-2.5-pro', generatesImages: false, inputTokenLimit: 1_048_576 },
  { name: 'gemini-flash-latest', generatesImages: false, inputTokenLimit: 1_048_576 },
  { name: 'gemini-3-pro-image-preview', generatesImages: true, inputTokenLimit: 65_536, imageSizes: ['1K', '2K', '4K'] },
  { name: 'gemini-3.1-flash-image-preview', generatesImages: true, inputTokenLimit: 65_536, imageSizes: ['1K', '2K', '4K'] },
  { name: 'gemini-2.5-flash-image', generatesImages: true, inputTokenLimit: 32_768, imageSizes: ['1K'] },
];

/** `models/x` and `x` both name model x. */
export function findModel(name: string): ModelInfo | undefined {
  const bare = name.startsWith('models/') ? name.slice('models/'.length) : name;
  return catalog.find((model) => model.name === bare);
}

export function listModelNames(): string[] {
  return catalog.map((model) => model.name);
}
