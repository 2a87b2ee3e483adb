import { defineConfig } from 'vitest/config';

// The projects. `npx vitest run` runs them by groupOrder: unit, sql and api together, then faults,
// load and browser in turn; `npm test` (scripts/test.mjs) runs those three side by side.
export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    // Most files wait on the database, processes or sockets more than on the CPU: two at a time.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        // Pure rules, and what needs no service of its own (the build check, the compose file).
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        // The database's functions called directly (db/functions): named arguments, explicit
        // instants, each test in a transaction rolled back after it; plpgsql_check over them all.
        extends: true,
        test: { name: 'sql', include: ['test/sql/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        // Every route through app.inject (or a socket of the in-process app) on a real database.
        extends: true,
        test: { name: 'api', include: ['test/api/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        // Faults injected under load (processes killed, Redis flushed and stopped, connections
        // terminated): one test at a time, each on API and worker processes of its own.
        extends: true,
        test: {
          name: 'faults',
          include: ['test/faults/faults.test.ts'],
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Load and multi-process tests: one file at a time, after the API tests (npm test runs
        // them beside the fault and browser runs, which mostly wait on their processes).
        extends: true,
        test: {
          name: 'load',
          include: ['test/concurrency/**/*.test.ts', 'test/faults/**/*.test.ts'],
          exclude: ['test/faults/faults.test.ts'],
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 2 },
        },
      },
      {
        // The web app in headless Chromium against real API and worker processes, one file at a
        // time.
        extends: true,
        test: {
          name: 'browser',
          include: ['test/e2e/**/*.test.ts'],
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
