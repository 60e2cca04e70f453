import { afterAll } from 'vitest';
import { removeTempDirs } from './temp.js';

// A setup file (vitest.config.ts): its afterAll runs after the test file's own, once the file
// has stopped its servers, whatever its tests did or failed to do.
afterAll(() => removeTempDirs());
