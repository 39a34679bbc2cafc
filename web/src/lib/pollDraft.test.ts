import { describe, expect, it } from "vitest";
import { type Draft, draftToRequest } from "./pollDraft";

const now = Date.parse("2030-01-01T12:00:00Z");
const draft = (over: Partial<Draft>): Draft => ({
  question: "Tea or coffee?",
  options: ["tea", "coffee", ""],
  closing: "never",
  customClose: "",
  mode: "open",
  listed: true,
  results: "live",
  maxChoices: 1,
  ...over,
});

describe("draftToRequest", () => {
  it("trims, drops blank options and sets no closing time by default", () => {
    expect(draftToRequest(draft({ question: "  Tea or coffee? " }), now)).toEqual({
      body: { question: "Tea or coffee?", options: ["tea", "coffee"] },
    });
  });

  it("sends a voting mode other than the default", () => {
    expect(draftToRequest(draft({ mode: "invite" }), now)).toEqual({
      body: { question: "Tea or coffee?", options: ["tea", "coffee"], mode: "invite" },
    });
  });

  it("sends listed only to keep a poll off the list", () => {
    expect(draftToRequest(draft({ listed: false }), now)).toEqual({
      body: { question: "Tea or coffee?", options: ["tea", "coffee"], listed: false },
    });
  });

  it("sends who sees the results only when they are not live", () => {
    expect(draftToRequest(draft({ results: "after_vote" }), now)).toEqual({
      body: { question: "Tea or coffee?", options: ["tea", "coffee"], results: "after_vote" },
    });
  });

  it("sends how many options a voter may choose when it is more than one, and no more than there are", () => {
    expect(draftToRequest(draft({ maxChoices: 2 }), now)).toEqual({
      body: { question: "Tea or coffee?", options: ["tea", "coffee"], max_choices: 2 },
    });
    expect(draftToRequest(draft({ maxChoices: 3 }), now)).toMatchObject({ field: "choices" });
  });

  it("turns a preset into a closing time", () => {
    const result = draftToRequest(draft({ closing: "15m" }), now);
    expect(result).toMatchObject({ body: { closes_at: "2030-01-01T12:15:00.000Z" } });
  });

  it("says what to fix", () => {
    expect(draftToRequest(draft({ question: " " }), now)).toMatchObject({ field: "question" });
    expect(draftToRequest(draft({ options: ["tea", " "] }), now)).toMatchObject({ problem: "Give at least two options." });
    expect(draftToRequest(draft({ options: ["tea", "tea"] }), now)).toMatchObject({ problem: "“tea” is there twice." });
    expect(draftToRequest(draft({ closing: "custom", customClose: "" }), now)).toMatchObject({ field: "closes" });
    expect(draftToRequest(draft({ closing: "custom", customClose: "2020-01-01T00:00" }), now)).toMatchObject({
      problem: "The closing time must be in the future.",
    });
  });
});
