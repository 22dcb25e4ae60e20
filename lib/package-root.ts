import { join } from 'node:path';

/**
 * The folder of chargen's package.json, templates/ and schemas/, wherever chargen runs from: this file is
 * lib/package-root.ts in a clone (tests, tsx) and dist/lib/package-root.js once built, one folder deeper.
 */
export const packageRoot = import.meta.filename.endsWith('.js') ? join(import.meta.dirname, '..', '..') : join(import.meta.dirname, '..');
