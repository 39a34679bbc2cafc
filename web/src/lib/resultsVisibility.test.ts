import { describe, expect, it } from "vitest";
import { RESULTS_CHOICES, resultsNotice } from "./resultsVisibility";

describe("resultsNotice", () => {
  it("says nothing of live results, nor of results this browser is shown", () => {
    expect(resultsNotice("live", false, false)).toBeNull();
    expect(resultsNotice(undefined, true, false)).toBeNull();
    expect(resultsNotice("after_vote", false, false)).toBeNull();
  });

  it("tells a reader without the counts when they will see them", () => {
    expect(resultsNotice("after_vote", true, false)).toBe("The results show once you vote.");
    expect(resultsNotice("after_close", true, false)).toBe("The results show when the poll closes.");
    expect(resultsNotice("hidden", true, false)).toBe("The presenter keeps the results hidden for now.");
  });

  it("tells the owner who else sees them", () => {
    expect(resultsNotice("hidden", false, true)).toBe("Only you see the results until you reveal them.");
    expect(resultsNotice("after_vote", false, true)).toBe("Voters see the results once they have voted.");
  });

  it("offers every visibility once", () => {
    expect(new Set(RESULTS_CHOICES.map(([value]) => value))).toEqual(new Set(["live", "after_vote", "after_close", "hidden"]));
  });
});
