import { createRealApiBackend, findRealApiKey } from './backends/real-api-backend.ts';
import { testGeminiBackend } from './test-gemini-backend.ts';

const apiKey = findRealApiKey();
const backend = createRealApiBackend(apiKey ?? '');
testGeminiBackend({
  ...backend,
  ...(apiKey ? {} : { skipReason: 'no GEMINI_API_KEY or GOOGLE_API_KEY in the environment' }),
  timeoutMilliseconds: 120_000,
});
