import { z } from 'zod';
import wordsData from './answer-words.json' with { type: 'json' };
import type { ValueHint } from './node-request.ts';

/**
 * The words the answer generator draws plausible strings from (`answer-words.json`), and how a property's name or
 * description picks its topic. The data is checked once at load, so a mistyped topic fails at start, not mid-answer.
 */

const topicSchema = z.enum([
  'hair',
  'eyes',
  'skin',
  'colour',
  'description',
  'species',
  'archetype',
  'mood',
  'lighting',
  'background',
  'style',
  'pose',
  'clothing',
  'age',
  'build',
  'personality',
  'item',
  'trait',
  'name',
]);
export type Topic = z.infer<typeof topicSchema>;

const wordListSchema = z.array(z.string().min(1)).min(1);

// Colours and descriptions are built (a hex code, a composed sentence), so they have no list of their own.
const answerWordsSchema = z
  .object({
    /** Matched in this order, so compound names resolve to the more specific topic. */
    topicKeywords: z.array(z.object({ topic: topicSchema, keywords: wordListSchema }).strict()),
    topicValues: z.record(topicSchema.exclude(['colour', 'description']), wordListSchema),
    genericAdjectives: wordListSchema,
    genericNouns: wordListSchema,
  })
  .strict();

const answerWords = answerWordsSchema.parse(wordsData);

export const TOPIC_KEYWORDS: ReadonlyArray<{ topic: Topic; keywords: ReadonlySet<string> }> = answerWords.topicKeywords.map(
  ({ topic, keywords }) => ({ topic, keywords: new Set(keywords) }),
);
export const TOPIC_VALUES: Readonly<Record<Exclude<Topic, 'colour' | 'description'>, readonly string[]>> = answerWords.topicValues;
export const GENERIC_ADJECTIVES: readonly string[] = answerWords.genericAdjectives;
export const GENERIC_NOUNS: readonly string[] = answerWords.genericNouns;

export function findTopic(hint: ValueHint): Topic | undefined {
  // The property name is the strongest signal; the description only breaks ties when the name says nothing.
  for (const source of [hint.name, hint.description]) {
    const words = tokenizeWords(source ?? '');
    const forms = words.flatMap((word) => [word, word.replace(/s$/, ''), word.replace(/es$/, '')]);
    const match = TOPIC_KEYWORDS.find(({ keywords }) => forms.some((form) => keywords.has(form)));
    if (match !== undefined) {
      return match.topic;
    }
  }
  return undefined;
}

export function tokenizeWords(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}
