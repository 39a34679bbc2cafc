// Screenshots of every page at phone and desktop sizes, light and dark, from a poll with
// real votes (as a voter, as its owner, and one whose results show once you vote),
// into the run's output folder (e2e/output.ts: a temp folder unless $VOTEWIRE_E2E_OUT
// says otherwise; `npm run screenshots` sets it to web/screenshots/). Motion is reduced
// so no bar is caught mid-animation.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { describe, it } from "vitest";
import { e2eOutputDir } from "./output";
import { voteUntilCharted } from "./controlRoom";
import { type Target, type Viewport, createPollByApi, openPage, voteAsStranger, voteButton } from "./pages";

const SIZES: [string, Viewport][] = [
  ["phone", { width: 390, height: 844 }],
  ["desktop", { width: 1440, height: 900 }],
];
const OPTIONS = ["Live reactions", "Ranked-choice polls", "Slack integration", "Dark-mode presenter"];
const VOTES = [3, 1, 0, 2, 0, 3, 1, 0, 0, 3, 2, 0]; // option per stranger

export function describeScreenshots(setup: () => { browser: Browser; target: Target }) {
  describe("screenshots", () => {
    it("captures every page, light and dark, at phone and desktop widths", async () => {
      const { browser, target } = setup();
      const out = e2eOutputDir().dir;
      mkdirSync(out, { recursive: true });
      const poll = await createPollByApi(target, "What should we build next?", OPTIONS);
      await createPollByApi(target, "Best time for the team offsite?", ["March", "May", "September"]);
      for (const option of VOTES) await voteAsStranger(target, poll.id, option);
      const secret = await createPollByApi(target, "Who should host the next demo day?", ["Ana", "Bo", "Chidi"], {
        results: "after_vote",
        listed: false,
      });
      for (const option of [0, 2, 2]) await voteAsStranger(target, secret.id, option);
      const several = await createPollByApi(target, "Which two talks should run again?", OPTIONS, { max_choices: 2 });
      for (const set of [[0, 1], [0, 3], [1, 3], [0, 2], [3]]) await voteAsStranger(target, several.id, set);

      for (const [size, viewport] of SIZES) {
        // Each view in the light scheme, then the dark one, as `<view>[-dark]-<size>.png`.
        const shoot = async (page: Page, name: string) => {
          for (const colorScheme of ["light", "dark"] as const) {
            await page.emulateMedia({ colorScheme });
            // Images (the brand's logo) load on their own: a shot taken before one is
            // decoded misses it.
            await page.evaluate(() => Promise.all([...document.images].map((image) => image.decode().catch(() => {}))));
            const scheme = colorScheme === "dark" ? "-dark" : "";
            await page.screenshot({ path: join(out, `${name}${scheme}-${size}.png`), animations: "disabled" });
          }
        };
        const view = { viewport, reducedMotion: "reduce" as const };

        const home = await openPage(browser, target, "/", view);
        await home.page.getByTestId("open-polls").waitFor();
        await shoot(home.page, "home");
        await home.context.close();

        const voter = await openPage(browser, target, `/p/${poll.id}`, view);
        await voteButton(voter.page, OPTIONS[0]!).click();
        await voter.page.locator('[data-testid="bars"] button[aria-pressed="true"]').waitFor();
        // Votes from elsewhere while the page is open fill its live feed. A vote cast
        // before the page's subscription is confirmed lands in its snapshot, not its
        // feed, so vote until the feed shows four (bounded).
        const feed = voter.page.locator('[data-testid="feed"] li');
        for (let n = 0; (await feed.count()) < 4; n++) {
          if (n === 12) throw new Error("the live feed never filled");
          const shown = await feed.count();
          await voteAsStranger(target, poll.id, [1, 3, 0][n % 3]!);
          await feed.nth(shown).waitFor({ timeout: 2_000 }).catch(() => undefined);
        }
        await shoot(voter.page, "poll");
        await voter.context.close();

        // The owner's page: the same poll with its controls (the browser holds the token).
        const owner = await openPage(browser, target, `/p/${poll.id}`, view);
        await owner.page.evaluate(([id, token]) => localStorage.setItem(`votewire:owner:${id}`, token!), [poll.id, poll.owner]);
        await owner.page.reload();
        await owner.page.getByLabel("Results shown to").waitFor();
        await owner.page.locator('[data-testid="watching"][data-count="1"]').waitFor();
        await shoot(owner.page, "poll-owner");
        await owner.context.close();

        // Results that show once you vote, seen before voting: options and total only.
        const undecided = await openPage(browser, target, `/p/${secret.id}`, view);
        await undecided.page.getByTestId("results-notice").waitFor();
        await shoot(undecided.page, "poll-hidden");
        await undecided.context.close();

        // A multiple-choice poll, as a voter who picked two.
        const picker = await openPage(browser, target, `/p/${several.id}`, view);
        for (const option of [OPTIONS[0]!, OPTIONS[3]!]) {
          await voteButton(picker.page, option).click();
          await picker.page.locator('[data-testid="bars"] button[aria-pressed="true"]', { hasText: option }).waitFor();
        }
        await shoot(picker.page, "poll-choices");
        await picker.context.close();

        const presenter = await openPage(browser, target, `/p/${poll.id}/present`, view);
        await presenter.page.getByTestId("total").waitFor();
        await shoot(presenter.page, "presenter");
        await presenter.context.close();

        const cluster = await openPage(browser, target, "/cluster", view);
        await cluster.page.locator(`[data-testid="nodes"] li[data-node="${target.node}"]`).waitFor();
        // Charts with something on them: votes while the page samples.
        await voteUntilCharted(cluster.page, target, poll.id);
        await shoot(cluster.page, "cluster");
        await cluster.context.close();
      }
    });
  });
}
