import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // e2e files each start their own emulators and Redis prefix; two forks match the 2-core machine
    pool: 'forks',
    maxWorkers: 2,
  },
});
