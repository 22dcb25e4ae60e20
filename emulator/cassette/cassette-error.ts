import { ChargenError } from '../../lib/errors.ts';

/** A cassette (or a body file it refers to) that is missing, unreadable or fails validation. */
export class CassetteError extends ChargenError {
  readonly path: string;

  constructor(options: { path: string; problem: string; cause?: unknown }) {
    super({
      code: 'cassette-invalid',
      message: `${options.path}: ${options.problem}. Record the cassette again (or repair the file by hand).`,
      cause: options.cause,
    });
    this.path = options.path;
  }
}
