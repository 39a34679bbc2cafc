// The same live-voting scenario against a running cluster, one page per node:
//   VOTEWIRE_E2E_TARGETS="node-1=http://127.0.0.1:8081,node-2=http://127.0.0.1:8082,node-3=..."
// Each page must show its own node's name, and a vote on one node must reach the others
// with that node named in their feeds. Skipped when no cluster is given.

import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe } from "vitest";
import { launchBrowser } from "./browser";
import { describeMultipleChoice } from "./choices";
import { describeLiveVoting } from "./liveVoting";
import { describeResultsVisibility } from "./results";
import type { Target } from "./pages";

function parseTargets(spec: string | undefined): Target[] {
  if (!spec) return [];
  return spec.split(",").map((entry) => {
    const [node, url] = entry.split("=", 2);
    if (!node || !url) throw new Error(`VOTEWIRE_E2E_TARGETS: "${entry}" is not node=url`);
    return { node: node.trim(), url: url.trim().replace(/\/$/, "") };
  });
}

const targets = parseTargets(process.env.VOTEWIRE_E2E_TARGETS);

describe.skipIf(targets.length === 0)("cluster", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  describeLiveVoting("pages on different nodes", () => ({ browser, targets }));
  describeResultsVisibility(() => ({ browser, targets }));
  describeMultipleChoice(() => ({ browser, targets }));
});
