// Joining by code, as people in a room do: the presenter shows a poll's code large, a
// person types it on the home page (any case, with a space) and lands on the poll,
// unlisted or not; a code of no poll says so and offers the field again.

import type { Browser } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type Target, createPollByApi, openPage } from "./pages";

async function createUnlisted(target: Target): Promise<{ id: string; code: string }> {
  const response = await fetch(`${target.url}/api/polls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ question: "Which room next?", options: ["Hall A", "Hall B"], listed: false }),
  });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${await response.text()}`);
  const created = (await response.json()) as { poll: { id: string; join_code: string; listed: boolean } };
  expect(created.poll.listed).toBe(false);
  return { id: created.poll.id, code: created.poll.join_code };
}

export function describeJoin(setup: () => { browser: Browser; target: Target }) {
  describe("join by code", () => {
    it("the presenter shows the code; typed on the home page, it opens the unlisted poll", async () => {
      const { browser, target } = setup();
      const poll = await createUnlisted(target);
      await createPollByApi(target, "A listed poll", ["yes", "no"]);
      const presenter = await openPage(browser, target, `/p/${poll.id}/present`);
      const shown = (await presenter.page.getByTestId("join-code").textContent()) ?? "";
      expect(shown.replace(/\s/g, "")).toBe(poll.code);
      await presenter.context.close();

      const person = await openPage(browser, target, "/");
      await person.page.getByTestId("open-polls").getByText("A listed poll").first().waitFor();
      expect(await person.page.getByText("Which room next?").count()).toBe(0);
      await person.page.getByLabel("Have a code?").fill(`${poll.code.slice(0, 3).toLowerCase()} ${poll.code.slice(3)}`);
      await person.page.getByRole("button", { name: "Join", exact: true }).click();
      await person.page.getByRole("heading", { level: 1, name: "Which room next?" }).waitFor();
      expect(new URL(person.page.url()).pathname).toBe(`/p/${poll.id}`);
      expect(person.errors).toEqual([]);
      await person.context.close();
    });

    it("a code of no poll says so and keeps the field to try again", async () => {
      const { browser, target } = setup();
      const { page, context } = await openPage(browser, target, "/j/ZZZ222");
      await page.getByRole("heading", { name: "No poll with that code" }).waitFor();
      expect(await page.getByTestId("join-failure").textContent()).toContain("ZZZ222");
      expect(await page.getByLabel("Have a code?").inputValue()).toBe("ZZZ222");
      await context.close();
    });
  });
}
