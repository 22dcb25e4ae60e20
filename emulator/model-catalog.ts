import { findRoutedModel, findServedModel, modelCatalog, type ServedModel } from '../schemas/gemini-models.ts';

/**
 * A model the emulator answers for, from the one catalog chargen also checks configs against
 * (`schemas/gemini-models.json`). Any other name is a 404, as on the real API.
 */
export interface ModelInfo {
  /** The model that answers: a routed id (gemini-3.7-flash) is answered by its successor, as the real API does. */
  name: string;
  generatesImages: boolean;
  /** Input token limit, to reject absurd requests the way the real API does. */
  inputTokenLimit: number;
  served: ServedModel;
}

function toModelInfo(served: ServedModel): ModelInfo {
  return { name: served.id, generatesImages: served.image !== undefined, inputTokenLimit: served.inputTokenLimit, served };
}

/** `models/x` and `x` both name model x; a retired id is not found, a routed one answers as its successor. */
export function findModel(name: string): ModelInfo | undefined {
  const served = findServedModel(name) ?? findServedModel(findRoutedModel(name)?.routedTo ?? '');
  return served ? toModelInfo(served) : undefined;
}

/** What the model takes for `method` (models.get's supportedGenerationMethods). */
export function supportsMethod(model: ModelInfo, method: string): boolean {
  return (model.served.methods as readonly string[]).includes(method);
}

export function listServedModels(): readonly ServedModel[] {
  return modelCatalog.models;
}
