import { z } from 'zod';
import { generateSchemaValue } from './emulator/schema/answer-schema.ts';
const js = { type: 'object', properties: { p: { type: 'object', properties: { name: { type: 'string' } } }, name: {type:'string'} , character_name: {type:'string'}} };
for (const seed of ['a','b','c','d']) console.log(JSON.stringify(generateSchemaValue({schema: js, kind:'json-schema', seed})));
console.log(z.toJSONSchema(z.iso.time()));
