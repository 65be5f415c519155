// SPDX-License-Identifier: MIT
// Vitest: unit tests live beside the code (src/**/*.test.ts[x]); DOM via happy-dom.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'happy-dom',
    testTimeout: 10_000,
    restoreMocks: true,
    setupFiles: ['src/test-support/setup.ts'],
  },
});
