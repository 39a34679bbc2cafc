import { describe, expect, it } from "vitest";
import { tallySummary } from "./summary";

const t = (counts: number[]) => ({ version: 1, counts, total: counts.reduce((a, b) => a + b, 0) });

describe("tallySummary", () => {
  it("names the leader, the tie and the end", () => {
    expect(tallySummary(["tea", "coffee"], t([0, 0]), false)).toBe("No votes yet.");
    expect(tallySummary(["tea", "coffee"], t([3, 1]), false)).toBe("4 votes. tea leads with 75%.");
    expect(tallySummary(["tea", "coffee"], t([2, 2]), false)).toBe("4 votes. tea and coffee are tied.");
    expect(tallySummary(["tea", "coffee"], t([1, 0]), true)).toBe("Final: 1 vote. tea won with 100%.");
  });

  it("counts voters on a multiple-choice poll, whose counts add up to more", () => {
    expect(tallySummary(["tea", "coffee"], t([2, 1]), false, true)).toBe("3 voters. tea leads with 67%.");
  });

  it("says only the total of a tally whose counts are hidden", () => {
    const hidden = { version: 4, counts: [], total: 3 };
    expect(tallySummary(["tea", "coffee"], hidden, false)).toBe("3 votes. The results are hidden.");
    expect(tallySummary(["tea", "coffee"], { ...hidden, total: 0 }, false)).toBe("No votes yet.");
  });
});
