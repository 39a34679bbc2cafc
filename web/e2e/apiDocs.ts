// The API docs page a node serves at /api/docs: it renders the node's OpenAPI document
// in Chromium under the node's Content-Security-Policy, with nothing fetched elsewhere.

import type { Browser } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { Target } from "./pages";

export function describeApiDocs(setup: () => { browser: Browser; target: Target }): void {
  describe("the API docs page", () => {
    it("lists the routes from /api/openapi.json with no script error or CSP violation", async () => {
      const { browser, target } = setup();
      const context = await browser.newContext({ baseURL: target.url });
      const page = await context.newPage();
      const errors: string[] = [];
      const elsewhere: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      page.on("request", (request) => {
        if (!request.url().startsWith(target.url)) elsewhere.push(request.url());
      });
      try {
        await page.goto("/api/docs");
        const vote = page.locator("h2", { hasText: "/api/polls/{id}/votes" }).first();
        await vote.waitFor();
        expect(await page.locator("h2 .method", { hasText: "POST" }).count()).toBeGreaterThan(0);
        expect(await page.locator("main").textContent()).toContain("WebSocket");
        expect(errors).toEqual([]);
        expect(elsewhere).toEqual([]);
      } finally {
        await context.close();
      }
    });
  });
}
