// `npm run config-schema`: regenerates schemas/chargen.config.schema.json from the zod schema (a test checks it is current).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createConfigJsonSchema } from '../../schemas/chargen-config.ts';

await writeFile(join(import.meta.dirname, '..', '..', 'schemas', 'chargen.config.schema.json'), `${JSON.stringify(createConfigJsonSchema(), null, 2)}\n`);
