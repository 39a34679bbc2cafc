// The core scenario: two people on (possibly) different nodes. Written against a list
// of targets so the same steps run against one node or a cluster: page A uses the
// first target, page B the second (or the first again when there is only one).

import type { Browser, Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { type Target, scenarioPages, tabTo, voteButton, waitCount, waitLive } from "./pages";

export function describeLiveVoting(name: string, setup: () => { browser: Browser; targets: Target[] }) {
  describe(name, () => {
    let a: Page;
    let b: Page;
    let targetA: Target;
    let targetB: Target;
    const pages = scenarioPages(() => setup().browser);
    const open = pages.open;
    const question = `Tea, coffee or mate? ${Date.now()}`;

    afterAll(pages.closeAll);

    it("creates a poll in page A and lands on it as its owner", async () => {
      const { targets } = setup();
      targetA = targets[0]!;
      targetB = targets[1 % targets.length]!;
      a = await open(targetA, "/");
      await a.getByLabel("Question", { exact: true }).fill(question);
      await a.getByLabel("Option 1", { exact: true }).fill("tea");
      await a.getByLabel("Option 2", { exact: true }).fill("coffee");
      await a.getByLabel("Option 2", { exact: true }).press("Enter"); // Enter adds the next option
      await a.getByLabel("Option 3", { exact: true }).fill("mate");
      await a.getByRole("button", { name: "Create poll" }).click();
      await a.waitForURL(/\/p\/[A-Za-z0-9_-]+$/);
      await a.getByRole("heading", { level: 1, name: question }).waitFor();
      await a.getByRole("button", { name: "Close poll…" }).waitFor();
      await waitCount(a, 0, 0);
    });

    it("page B finds it in the open polls and opens it, connected to its own node", async () => {
      b = await open(targetB, "/");
      await b.getByRole("link", { name: question }).click();
      await b.getByRole("heading", { level: 1, name: question }).waitFor();
      expect(new URL(b.url()).pathname).toBe(new URL(a.url()).pathname);
      await waitLive(b, targetB.node);
      await waitLive(a, targetA.node);
      expect(await b.getByRole("button", { name: "Close poll…" }).count()).toBe(0);
      // Each page counts both: on a cluster they are on two nodes, which add up.
      for (const page of [a, b]) await page.locator('[data-testid="watching"][data-count="2"]').waitFor();
    });

    it("a vote in A shows in B, with the node that handled it in B's feed", async () => {
      await voteButton(a, "tea").click();
      await a.locator('[data-testid="bars"] button[aria-pressed="true"]', { hasText: "tea" }).waitFor();
      await waitCount(b, 0, 1);
      const latest = b.locator('[data-testid="feed"] li').first();
      await latest.filter({ hasText: "tea" }).waitFor();
      expect(await latest.getAttribute("data-node")).toBe(targetA.node);
      await b.getByTestId("total").filter({ hasText: "1 vote." }).waitFor();
    });

    it("changing the vote in A moves it in B", async () => {
      await voteButton(a, "coffee").click();
      await Promise.all([waitCount(b, 0, 0), waitCount(b, 1, 1)]);
      await a.locator('[data-testid="bars"] button[aria-pressed="true"]', { hasText: "coffee" }).waitFor();
      expect(await a.locator('[data-testid="bars"] button[aria-pressed="true"]').count()).toBe(1);
    });

    it("B votes with the keyboard alone (Tab, Enter, Space)", async () => {
      await b.locator("body").click({ position: { x: 1, y: 1 } });
      await tabTo(b, "coffee");
      await b.keyboard.press("Enter");
      await waitCount(a, 1, 2);
      await tabTo(b, "tea", "Shift+Tab");
      await b.keyboard.press("Space");
      await Promise.all([waitCount(a, 0, 1), waitCount(a, 1, 1)]);
      await b.locator('[data-testid="bars"] button[aria-pressed="true"]', { hasText: "tea" }).waitFor();
    });

    it("B withdraws its vote and A sees it go", async () => {
      await b.getByRole("button", { name: "Withdraw my vote" }).click();
      await Promise.all([waitCount(a, 0, 0), waitCount(a, 1, 1)]);
      await a.getByTestId("total").filter({ hasText: "1 vote." }).waitFor();
      // B's own page unmarks its choice when its answer arrives, which may be after A
      // saw the withdrawal: wait for it rather than look once.
      await b.locator('[data-testid="bars"] button[aria-pressed="true"]').waitFor({ state: "detached" });
      await b.getByRole("button", { name: "Withdraw my vote" }).waitFor({ state: "detached" });
    });

    it("the owner pauses voting; B sees it paused and cannot vote until it resumes", async () => {
      await a.getByRole("button", { name: "Pause voting" }).click();
      await b.locator('[data-testid="poll-status"][data-status="paused"]').waitFor();
      expect(await voteButton(b, "tea").count()).toBe(0);
      await a.getByRole("button", { name: "Resume voting" }).click();
      await b.locator('[data-testid="poll-status"][data-status="open"]').waitFor();
      await voteButton(b, "tea").waitFor();
    });

    it("the owner resets the votes; both pages empty, and B votes again", async () => {
      await a.getByRole("button", { name: "Reset votes…" }).click();
      await a.getByRole("button", { name: "Reset votes", exact: true }).click();
      for (const page of [a, b]) await Promise.all([waitCount(page, 0, 0), waitCount(page, 1, 0)]);
      // A's vote went with the others: its page no longer marks one.
      await a.locator('[data-testid="bars"] button[aria-pressed="true"]').waitFor({ state: "detached" });
      await voteButton(b, "coffee").click();
      await waitCount(a, 1, 1);
    });

    it("the owner closes the poll; B shows it closed and can no longer vote", async () => {
      await a.getByRole("button", { name: "Close poll…" }).click();
      await a.getByRole("button", { name: "Close poll", exact: true }).click();
      await b.locator('[data-testid="poll-status"][data-status="closed"]').waitFor();
      await a.locator('[data-testid="poll-status"][data-status="closed"]').waitFor();
      expect(await voteButton(b, "tea").count()).toBe(0);
      await b.getByTestId("total").filter({ hasText: "Final: 1 vote." }).waitFor();
    });

    it("the owner reopens it; B shows it open and votes again, then it closes for good", async () => {
      await a.getByRole("button", { name: "Reopen poll" }).click();
      await b.locator('[data-testid="poll-status"][data-status="open"]').waitFor();
      await voteButton(b, "tea").click();
      await Promise.all([waitCount(a, 0, 1), waitCount(a, 1, 0)]);
      await a.getByRole("button", { name: "Close poll…" }).click();
      await a.getByRole("button", { name: "Close poll", exact: true }).click();
      await b.locator('[data-testid="poll-status"][data-status="closed"]').waitFor();
      await b.getByTestId("total").filter({ hasText: "Final: 1 vote." }).waitFor();
    });

    it("an unknown poll is explained in words, not a blank page", async () => {
      await b.goto("/p/no-such-poll-e2e");
      await b.getByRole("heading", { name: "That did not work" }).waitFor();
      const alert = b.locator("main [role=alert]");
      expect(await alert.textContent()).toMatch(/poll/i);
      expect(await b.getByTestId("toast-error").count()).toBe(0); // said once, not twice
    });

    it("raised no script errors and no Content-Security-Policy violation in any page", () => {
      expect(pages.errors()).toEqual([]);
    });
  });
}
