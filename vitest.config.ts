import { defineConfig } from 'vitest/config';

// `npm test`: unit, component and end-to-end tests that finish in minutes.
// Long suites (real Linux boots, QEMU differential runs) live in vitest.slow.config.ts.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx', 'test/e2e/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
