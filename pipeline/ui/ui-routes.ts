import type { ThumbnailCache } from '../../lib/media/thumbnail-cache.ts';
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../lib/logger.ts';
import type { UiActions } from './create-ui-actions.ts';
import type { RegenerateActions } from './create-regenerate-actions.ts';
import type { UiState } from './create-ui-state.ts';
import type { QueueStream } from './create-queue-stream.ts';

export interface UiHandlerOptions {
  state: UiState;
  actions: UiActions;
  /** The artist's loop: the queue of images to ask again, their versions, the choice. */
  regenerate: RegenerateActions;
  inputDirectory: string;
  outputDirectory: string;
  logger: Logger;
  /** How often open pages are sent the queue when it changed. */
  refreshMilliseconds: number;
  /** Text that must never reach a page (the API key), replaced wherever it would appear. */
  secrets: readonly string[];
  /** The gallery's small WebP images, made once per image and kept in the workspace. */
  thumbnails: ThumbnailCache;
}

/** What the routes share: the handler's options, JSON answers (redacted), and the pages' event stream. */
export interface UiRoutes {
  options: UiHandlerOptions;
  sendJson(response: ServerResponse, status: number, value: unknown): void;
  queueStream: QueueStream;
}

