import { join } from 'node:path';

/** The folder of chargen's package.json, templates/ and schemas/, wherever chargen runs from. */
export const packageRoot = join(import.meta.dirname, '..');
