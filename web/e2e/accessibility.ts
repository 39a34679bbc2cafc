// Every page through axe-core in both colour schemes, failing on any violation (its rule,
// the elements and why), and the glass panels' blur as Chromium computes it: the
// minifier once kept only `-webkit-backdrop-filter`, which Chromium ignores, so the
// glass rendered as plain tint.

import { createRequire } from "node:module";
import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type Target, createPollByApi, openPage, voteAsStranger, voteButton } from "./pages";

const axeSource = createRequire(import.meta.url)("axe-core").source as string;

type Violation = { id: string; help: string; nodes: { target: string[]; failureSummary?: string }[] };

/** What axe-core finds wrong on the page as it stands, one line per element. */
async function violations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol: the node's Content-Security-Policy rightly
  // refuses an inline script tag.
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: () => Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return found.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.help}) at ${n.target.join(" ")}: ${n.failureSummary ?? ""}`));
}

export function describeAccessibility(setup: () => { browser: Browser; target: Target }) {
  describe("accessibility", () => {
    it("finds no axe-core violation on any page, light or dark", async () => {
      const { browser, target } = setup();
      const poll = await createPollByApi(target, "Which talk next?", ["Streams", "Pacing", "Glass"]);
      const secret = await createPollByApi(target, "Which talk was best?", ["Streams", "Pacing"], { results: "after_vote" });
      for (const option of [0, 2, 2]) await voteAsStranger(target, poll.id, option);
      const pages: [string, string, (page: Page) => Promise<void>][] = [
        ["home", "/", (page) => page.getByTestId("open-polls").waitFor()],
        ["poll", `/p/${poll.id}`, (page) => page.getByTestId("total").waitFor()],
        ["voted poll", `/p/${poll.id}`, async (page) => {
          await voteButton(page, "Pacing").click();
          await page.locator('[data-testid="bars"] button[aria-pressed="true"]').waitFor();
        }],
        ["poll with hidden results", `/p/${secret.id}`, (page) => page.getByTestId("results-notice").waitFor()],
        ["presenter", `/p/${poll.id}/present`, (page) => page.getByTestId("total").waitFor()],
        ["cluster", "/cluster", (page) => page.locator(`[data-testid="nodes"] li[data-node="${target.node}"]`).waitFor()],
        ["not found", "/p/no-such-poll", (page) => page.getByRole("heading").first().waitFor()],
        ["unknown join code", "/j/ZZZ222", (page) => page.getByLabel("Have a code?").waitFor()],
      ];
      const found: string[] = [];
      for (const colorScheme of ["light", "dark"] as const) {
        for (const [name, path, ready] of pages) {
          const { page, context } = await openPage(browser, target, path, { colorScheme, reducedMotion: "reduce" });
          await ready(page);
          found.push(...(await violations(page)).map((line) => `${name}, ${colorScheme}: ${line}`));
          await context.close();
        }
      }
      expect(found).toEqual([]);
    });

    it("renders the glass blurred: Chromium computes a backdrop filter", async () => {
      const { browser, target } = setup();
      const { page, context } = await openPage(browser, target, "/");
      await page.getByTestId("open-polls").waitFor();
      const filters = await page.evaluate(() =>
        [".topbar", ".glass"].map((selector) => getComputedStyle(document.querySelector(selector)!).backdropFilter),
      );
      for (const filter of filters) expect(filter).toMatch(/^blur\(/);
      await context.close();
    });
  });
}
