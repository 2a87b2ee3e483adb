import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'api',
          include: ['test/unit/**/*.test.ts', 'test/api/**/*.test.ts'],
          // Each file gets its own database (cloned from a migrated template), so files run in parallel.
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The database's functions called directly (db/functions): named arguments, explicit
        // instants, each test in a transaction rolled back after it; plpgsql_check over them all.
        extends: true,
        test: {
          name: 'sql',
          include: ['test/sql/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Load, multi-process and fault tests: one file at a time, after the rest, so that
        // their load does not starve the timing of other files on a 2-core machine.
        extends: true,
        test: {
          name: 'load',
          include: ['test/concurrency/**/*.test.ts', 'test/faults/**/*.test.ts'],
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
        },
      },
      {
        // The web app in headless Chromium against real API and worker processes, last and
        // one file at a time: a browser is the heaviest thing the suite runs.
        extends: true,
        test: {
          name: 'browser',
          include: ['test/e2e/**/*.test.ts'],
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
