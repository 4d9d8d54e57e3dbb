import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that patch SDK prototypes or own global OTel state run in their own worker process.
    pool: 'forks',
    reporters: ['default'],
  },
});
