// Multiple choice, as a room meets it: the owner creates a poll where each voter picks up
// to two options; a person picks two, is told a third is one too many, takes one out, and
// the owner's page (on another node, on a cluster) follows every change, the feed naming
// both options of a two-option vote.

import type { Browser, Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { type Target, scenarioPages, voteButton, waitCount } from "./pages";

/** Waits until both pages show `counts` for tea, coffee and mate. */
async function waitCounts(pages: Page[], counts: number[]): Promise<void> {
  await Promise.all(pages.flatMap((page) => counts.map((count, option) => waitCount(page, option, count))));
}

export function describeMultipleChoice(setup: () => { browser: Browser; targets: Target[] }) {
  describe("multiple choice", () => {
    const pages = scenarioPages(() => setup().browser);
    let owner: Page;
    let person: Page;

    afterAll(async () => {
      expect(pages.errors()).toEqual([]);
      await pages.closeAll();
    });

    it("the owner creates a poll where each voter picks up to two options", async () => {
      const { targets } = setup();
      owner = await pages.open(targets[0]!, "/");
      await owner.getByLabel("Question", { exact: true }).fill("What goes in the box?");
      await owner.getByLabel("Option 1", { exact: true }).fill("tea");
      await owner.getByLabel("Option 2", { exact: true }).fill("coffee");
      await owner.getByLabel("Option 2", { exact: true }).press("Enter");
      await owner.getByLabel("Option 3", { exact: true }).fill("mate");
      await owner.getByLabel("Each voter chooses").selectOption("2");
      await owner.getByRole("button", { name: "Create poll" }).click();
      await owner.waitForURL(/\/p\/[A-Za-z0-9_-]+$/);
      await owner.getByText("Choose up to 2 options").waitFor();
      person = await pages.open(targets[1 % targets.length]!, new URL(owner.url()).pathname);
    });

    it("a person picks two; both count once, and the owner's feed names both", async () => {
      await voteButton(person, "tea").click();
      await waitCounts([owner, person], [1, 0, 0]);
      await voteButton(person, "mate").click();
      await waitCounts([owner, person], [1, 0, 1]);
      await person.getByTestId("total").filter({ hasText: "1 voter." }).waitFor();
      await owner.locator('[data-testid="feed"] li').first().filter({ hasText: "tea, mate" }).waitFor();
      expect(await person.locator('[data-testid="bars"] button[aria-pressed="true"]').count()).toBe(2);
    });

    it("a third is one too many; taking one out moves the counts", async () => {
      await voteButton(person, "coffee").click();
      await person.getByTestId("toast-info").filter({ hasText: "Choose at most 2 options" }).waitFor();
      await voteButton(person, "tea").click();
      await waitCounts([owner, person], [0, 0, 1]);
      await voteButton(person, "coffee").click();
      await waitCounts([owner, person], [0, 1, 1]);
      await person.getByTestId("total").filter({ hasText: "1 voter." }).waitFor();
    });
  });
}
