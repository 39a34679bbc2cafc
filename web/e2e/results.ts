// Who sees the results, as people in a room meet it: the presenter creates a poll whose
// results show each voter once they have voted; a person who has not voted sees the
// options and the total but no counts, votes, and sees them; the presenter hides them
// from everyone, then reveals them, and the person's page follows each change. On a
// cluster the two pages are on two nodes.

import type { Browser, Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { type Target, scenarioPages, voteAsStranger, voteButton, waitCount } from "./pages";

/** Waits until the bars show no counts (the results are hidden from the page). */
const waitHidden = (page: Page) => page.locator('[data-testid="bars"][data-hidden="true"]').waitFor();

/** The notice that says when the results show, once it reads `text`. */
const waitNotice = (page: Page, text: string) => page.getByTestId("results-notice").filter({ hasText: text }).waitFor();

export function describeResultsVisibility(setup: () => { browser: Browser; targets: Target[] }) {
  describe("results visibility", () => {
    const pages = scenarioPages(() => setup().browser);
    const open = pages.open;
    let owner: Page;
    let person: Page;
    let poll = "";

    afterAll(async () => {
      expect(pages.errors()).toEqual([]);
      await pages.closeAll();
    });

    it("the owner creates a poll whose results show voters once they voted, and sees the counts", async () => {
      const { targets } = setup();
      owner = await open(targets[0]!, "/");
      await owner.getByLabel("Question", { exact: true }).fill("Which talk was best?");
      await owner.getByLabel("Option 1", { exact: true }).fill("Rust");
      await owner.getByLabel("Option 2", { exact: true }).fill("Go");
      await owner.getByLabel("Who sees the results").selectOption("after_vote");
      await owner.getByRole("button", { name: "Create poll" }).click();
      await owner.waitForURL(/\/p\/[A-Za-z0-9_-]+$/);
      poll = new URL(owner.url()).pathname.split("/").pop()!;
      await waitNotice(owner, "Voters see the results once they have voted.");
      await waitCount(owner, 0, 0);
    });

    it("a person who has not voted sees the total but no counts; after voting, the counts", async () => {
      const { targets } = setup();
      person = await open(targets[1 % targets.length]!, `/p/${poll}`);
      await waitHidden(person);
      await waitNotice(person, "The results show once you vote.");
      await voteAsStranger(targets[0]!, poll, 1);
      await person.getByTestId("total").filter({ hasText: "1 vote. The results are hidden." }).waitFor();
      expect(await person.locator("[data-testid=option][data-count]").count()).toBe(0);
      expect(await person.locator('[data-testid="feed"] li').count()).toBe(0);
      await waitCount(owner, 1, 1);

      await voteButton(person, "Rust").click();
      await Promise.all([waitCount(person, 0, 1), waitCount(person, 1, 1)]);
      expect(await person.getByTestId("results-notice").count()).toBe(0);
    });

    it("the owner hides them from everyone, then reveals them, and the person's page follows", async () => {
      await owner.getByLabel("Results shown to").selectOption("hidden");
      await waitNotice(owner, "Only you see the results until you reveal them.");
      await waitHidden(person);
      await waitNotice(person, "The presenter keeps the results hidden for now.");
      await waitCount(owner, 0, 1);

      await owner.getByLabel("Results shown to").selectOption("live");
      await Promise.all([waitCount(person, 0, 1), waitCount(person, 1, 1)]);
      expect(await person.getByTestId("results-notice").count()).toBe(0);
    });
  });
}
