// End to end against one real node with a fresh database: the live-voting scenario,
// a restart of the node, then the screenshots.

import type { Browser } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { describeAccessibility } from "./accessibility";
import { describeApiDocs } from "./apiDocs";
import { describeMultipleChoice } from "./choices";
import { launchBrowser } from "./browser";
import { describeControlRoom } from "./controlRoom";
import { describeExport } from "./export";
import { describeJoin } from "./join";
import { describeLiveVoting } from "./liveVoting";
import { type RunningNode, startNode } from "./node";
import { describeReconnect } from "./reconnect";
import { describeResultsVisibility } from "./results";
import { describeScreenshots } from "./screenshots";

let node: RunningNode;
let browser: Browser;

beforeAll(async () => {
  [node, browser] = await Promise.all([startNode("e2e-node"), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await node?.stop();
});

const target = () => ({ url: node.url, node: node.node });

describeLiveVoting("one node", () => ({ browser, targets: [target()] }));
describeApiDocs(() => ({ browser, target: target() }));
describeReconnect(() => ({ browser, node }));
describeJoin(() => ({ browser, target: target() }));
describeResultsVisibility(() => ({ browser, targets: [target()] }));
describeMultipleChoice(() => ({ browser, targets: [target()] }));
describeControlRoom(() => ({ browser, target: target() }));
describeExport(() => ({ browser, target: target() }));
describeAccessibility(() => ({ browser, target: target() }));
describeScreenshots(() => ({ browser, target: target() }));
