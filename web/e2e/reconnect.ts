// A node going away must not leave a page stale: the page shows it is offline,
// reconnects by itself, resubscribes with the version it shows, and carries on.

import type { Browser } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { RunningNode } from "./node";
import { createPollByApi, openPage, voteAsStranger, waitCount } from "./pages";

export function describeReconnect(setup: () => { browser: Browser; node: RunningNode }) {
  describe("reconnecting", () => {
    it("shows the outage, reconnects after a node restart and keeps updating", async () => {
      const { browser, node } = setup();
      const target = { url: node.url, node: node.node };
      const poll = await createPollByApi(target, "Does it survive a restart?", ["yes", "no"]);
      await voteAsStranger(target, poll.id, 0);
      const { page, context } = await openPage(browser, target, `/p/${poll.id}`);
      await waitCount(page, 0, 1);

      // Record every connection phase the page shows, so the outage cannot slip by unseen.
      await page.evaluate(() => {
        const badge = document.querySelector('[data-testid="connection"]')!;
        const phases: string[] = [];
        (window as unknown as { phases: string[] }).phases = phases;
        new MutationObserver(() => phases.push(badge.getAttribute("data-phase") ?? "")).observe(badge, {
          attributeFilter: ["data-phase"],
        });
      });
      const sent: string[] = [];
      page.on("websocket", (socket) => socket.on("framesent", (frame) => sent.push(String(frame.payload))));
      await node.restart();
      await page.waitForFunction(() => (window as unknown as { phases: string[] }).phases.includes("waiting"));
      await page.locator('[data-testid="connection"][data-phase="live"]').waitFor();
      // The page resubscribed with the version it shows, so no snapshot was needed.
      expect(sent.map((f) => JSON.parse(f) as unknown)).toContainEqual({ type: "subscribe", poll: poll.id, since: 1 });

      await voteAsStranger(target, poll.id, 1);
      await waitCount(page, 1, 1);
      await context.close();
    });
  });
}
