import { emulatorBackend } from './backends/emulator-backend.ts';
import { testGeminiBackend } from './test-gemini-backend.ts';

testGeminiBackend(emulatorBackend);
