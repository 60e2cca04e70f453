import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most test time is waiting (leases expiring, watchers settling, servers starting), not CPU:
    // four files at once on a 2-core machine halve the suite's wall time (418 s → 180 s).
    maxWorkers: 4,
    setupFiles: ['test/helpers/cleanup.ts'],
    reporters: ['default'],
  },
});
