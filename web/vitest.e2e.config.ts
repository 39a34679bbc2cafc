import { defineConfig } from "vitest/config";
import { e2eOutputDir } from "./e2e/output";
import SummaryReporter from "./e2e/summaryReporter";

// Outside the work tree unless $VOTEWIRE_E2E_OUT says otherwise (see e2e/output.ts).
const output = e2eOutputDir();

// The browser tests: one file at a time (they share the machine with a real node),
// steps in order, waits bounded by Playwright's own timeouts.
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { VOTEWIRE_E2E_OUT: output.dir },
    reporters: ["default", new SummaryReporter(output)],
  },
});
