// Ends the run with one plain line, "N passed, N failed[, N skipped]", that CI reads,
// after a line saying where the run's outputs (screenshots) are.

import { readdirSync, rmSync } from "node:fs";
import type { Reporter, TestModule } from "vitest/node";
import type { OutputDir } from "./output";

export default class SummaryReporter implements Reporter {
  constructor(private readonly output: OutputDir) {}

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<unknown>): void {
    const counts = { passed: 0, failed: unhandled.length, skipped: 0 };
    for (const module of modules) {
      if (module.state() === "failed" && !module.children.size) counts.failed += 1; // a file that failed to load
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") counts.passed += 1;
        else if (state === "failed") counts.failed += 1;
        else counts.skipped += 1;
      }
    }
    this.reportOutput();
    const skipped = counts.skipped ? `, ${counts.skipped} skipped` : "";
    console.log(`\ne2e: ${counts.passed} passed, ${counts.failed} failed${skipped}`);
  }

  private reportOutput(): void {
    const { dir, fresh } = this.output;
    let written: string[] = [];
    try {
      written = readdirSync(dir);
    } catch {
      // Nothing was written to a folder given by $VOTEWIRE_E2E_OUT.
    }
    if (written.length > 0) console.log(`\ne2e: outputs (screenshots) in ${dir}`);
    else if (fresh) rmSync(dir, { recursive: true, force: true });
  }
}
