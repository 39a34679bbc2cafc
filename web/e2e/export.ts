// The owner's export, as a download in the browser: the poll's creator sees the
// buttons, a visitor does not, and the files hold the votes cast (voters as pseudonyms).

import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type Target, openPage, voteAsStranger, voteButton, waitCount } from "./pages";

async function download(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: button }).click()]);
  const path = await file.path();
  return { name: file.suggestedFilename(), text: readFileSync(path, "utf8") };
}

export function describeExport(setup: () => { browser: Browser; target: Target }) {
  describe("export", () => {
    it("the owner downloads results and votes; a visitor has no such buttons", async () => {
      const { browser, target } = setup();
      const owner = await openPage(browser, target, "/");
      await owner.page.getByLabel("Question", { exact: true }).fill("Export me?");
      await owner.page.getByLabel("Option 1", { exact: true }).fill("yes");
      await owner.page.getByLabel("Option 2", { exact: true }).fill("no, thanks");
      await owner.page.getByRole("button", { name: "Create poll" }).click();
      await owner.page.getByRole("heading", { level: 1, name: "Export me?" }).waitFor();
      const id = new URL(owner.page.url()).pathname.split("/")[2]!;
      await voteButton(owner.page, "yes").click();
      for (const option of [1, 1]) await voteAsStranger(target, id, option);
      await waitCount(owner.page, 1, 2);

      const results = await download(owner.page, "Results (CSV)");
      expect(results.name).toBe(`poll-${id}-results.csv`);
      expect(results.text).toBe('option,text,votes,percent\r\n0,yes,1,33.3\r\n1,"no, thanks",2,66.7\r\n');
      const votes = await download(owner.page, "Votes (JSON)");
      const rows = JSON.parse(votes.text) as { option: number; node: string; voter: string }[];
      expect(rows.map((r) => r.option).sort()).toEqual([0, 1, 1]);
      expect(rows.every((r) => r.node === target.node && /^[0-9a-f]{16}$/.test(r.voter))).toBe(true);
      expect(owner.errors).toEqual([]);
      await owner.context.close();

      const visitor = await openPage(browser, target, `/p/${id}`);
      await waitCount(visitor.page, 1, 2);
      expect(await visitor.page.getByRole("button", { name: "Results (CSV)" }).count()).toBe(0);
      await visitor.context.close();
    });
  });
}
