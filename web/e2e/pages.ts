// What the end-to-end tests do to and read from a page, named after what a person sees.

import type { Browser, BrowserContext, Page } from "playwright-core";

export type Target = { url: string; node: string };

export type Viewport = { width: number; height: number };

/**
 * A fresh browser profile (its own cookies: its own voter) on the page at `path`, with
 * the script errors and Content-Security-Policy violations it raises from the start.
 */
export async function openPage(
  browser: Browser,
  target: Target,
  path: string,
  options: { viewport?: Viewport; colorScheme?: "light" | "dark"; reducedMotion?: "reduce" } = {},
): Promise<{ page: Page; context: BrowserContext; errors: string[] }> {
  const context = await browser.newContext({
    baseURL: target.url,
    viewport: options.viewport ?? { width: 1280, height: 860 },
    colorScheme: options.colorScheme ?? "light",
    reducedMotion: options.reducedMotion ?? "no-preference",
  });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  // What the node's Content-Security-Policy blocks is only said on the console.
  page.on("console", (message) => {
    if (message.type() === "error" && message.text().includes("Content Security Policy")) {
      errors.push(message.text());
    }
  });
  await page.goto(path);
  await waitLive(page, target.node);
  return { page, context, errors };
}

/**
 * The pages one scenario opens: each in its own profile (its own voter), closed together
 * at the end, with the errors every one of them raised.
 */
export function scenarioPages(browser: () => Browser) {
  const contexts: BrowserContext[] = [];
  const pageErrors: string[][] = [];
  return {
    async open(target: Target, path: string): Promise<Page> {
      const opened = await openPage(browser(), target, path);
      contexts.push(opened.context);
      pageErrors.push(opened.errors);
      return opened.page;
    },
    errors: () => pageErrors.flat(),
    closeAll: () => Promise.all(contexts.map((c) => c.close())),
  };
}

/** Waits until the page's WebSocket said hello from the expected node. */
export async function waitLive(page: Page, node: string): Promise<void> {
  await page.locator('[data-testid="connection"][data-phase="live"]').waitFor();
  await page.getByTestId("connected-node").filter({ hasText: new RegExp(`^${node}$`) }).waitFor();
}

export const voteButton = (page: Page, option: string) =>
  page.getByRole("button", { name: new RegExp(`^${option}\\b`) });

/** Waits until option `index` (0-based) shows `count` votes. */
export function waitCount(page: Page, index: number, count: number): Promise<void> {
  return page.locator(`[data-testid="bars"] > li:nth-child(${index + 1})[data-count="${count}"]`).waitFor();
}

/** Presses Tab until the focused element's text (a bar's name is its text) starts with `label`. */
export async function tabTo(page: Page, label: string, key: "Tab" | "Shift+Tab" = "Tab"): Promise<void> {
  for (let presses = 0; presses < 40; presses++) {
    await page.keyboard.press(key);
    const focused = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
    if (focused.startsWith(label)) return;
  }
  throw new Error(`Tab never reached "${label}"`);
}

/**
 * Casts a vote as a new voter (issued first: a vote never mints one), as another person
 * would: one option, or a set of them on a multiple-choice poll.
 */
export async function voteAsStranger(target: Target, poll: string, choice: number | number[]): Promise<void> {
  const issued = await fetch(`${target.url}/api/voters`, { method: "POST" });
  if (!issued.ok) throw new Error(`issuing a voter failed: ${issued.status} ${await issued.text()}`);
  const { voter_token } = (await issued.json()) as { voter_token: string };
  const response = await fetch(`${target.url}/api/polls/${poll}/votes`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Voter ${voter_token}` },
    body: JSON.stringify(typeof choice === "number" ? { option: choice } : { options: choice }),
  });
  if (!response.ok) throw new Error(`vote failed: ${response.status} ${await response.text()}`);
}

/** Creates a poll through the API; `extra` adds fields of the body (`results`, ...). */
export async function createPollByApi(
  target: Target,
  question: string,
  options: string[],
  extra: Record<string, unknown> = {},
): Promise<{ id: string; owner: string }> {
  const response = await fetch(`${target.url}/api/polls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ question, options, ...extra }),
  });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${await response.text()}`);
  const created = (await response.json()) as { poll: { id: string }; owner_token: string };
  return { id: created.poll.id, owner: created.owner_token };
}
