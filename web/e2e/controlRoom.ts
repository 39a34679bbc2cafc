// The control room (/cluster) while votes come in: its charts and its topology move with
// the telemetry the node sends over the page's WebSocket (no polling of an endpoint).

import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type Target, createPollByApi, openPage, voteAsStranger } from "./pages";

/** The highest value a chart's line reached over its history (NaN before the first). */
const peakOf = (page: Page, chart: string, line: string) =>
  page
    .locator(`[data-testid="${chart}"] li[data-line="${line}"]`)
    .getAttribute("data-peak")
    .then((value) => Number(value || Number.NaN));

/**
 * Votes on `poll`, a few at a time, each round awaited until two more samples came (so
 * one interval holds them), until the votes chart has shown them (bounded).
 */
export async function voteUntilCharted(page: Page, target: Target, poll: string): Promise<void> {
  for (let sent = 0; (await peakOf(page, "chart-votes", target.node)) > 0 === false; sent += 5) {
    if (sent >= 100) throw new Error("the control room never showed the votes");
    const seen = Number(await page.locator(".cluster").getAttribute("data-samples"));
    await Promise.all([0, 1, 0, 1, 0].map((option) => voteAsStranger(target, poll, option)));
    await page.waitForFunction((n) => Number(document.querySelector(".cluster")?.getAttribute("data-samples")) >= n, seen + 2);
  }
}

export function describeControlRoom(setup: () => { browser: Browser; target: Target }) {
  describe("control room", () => {
    it("charts votes per second and commit latency, and lights the node, while votes come in", async () => {
      const { browser, target } = setup();
      const poll = await createPollByApi(target, "Is the control room alive?", ["yes", "no"]);
      const { page, context, errors } = await openPage(browser, target, "/cluster");
      await page.getByTestId("chart-votes").waitFor();
      await voteUntilCharted(page, target, poll.id);
      expect(await peakOf(page, "chart-commit", `${target.node} p99`)).toBeGreaterThan(0);
      await page.locator(`[data-testid="topology"] g[data-node="${target.node}"][data-busy="true"]`).waitFor();
      await page.locator(`[data-testid="chart-votes"] path[data-line="${target.node}"]`).waitFor({ state: "attached" });
      expect(errors).toEqual([]);
      await context.close();
    });
  });
}
