import { defineConfig } from "vitest/config";

// The browser tests: one file at a time (they share the machine with a real node),
// steps in order, waits bounded by Playwright's own timeouts.
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default", "./e2e/summaryReporter.ts"],
  },
});
