import { createCassetteBackends } from './backends/cassette-backends.ts';
import { testGeminiBackend } from './test-gemini-backend.ts';

// In this order: the replay answers from the cassette the recording wrote.
const { recording, replay } = createCassetteBackends();
testGeminiBackend(recording);
testGeminiBackend(replay);
