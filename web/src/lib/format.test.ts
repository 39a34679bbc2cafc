import { describe, expect, it } from "vitest";
import { fromNow, percent, votes } from "./format";

describe("format", () => {
  it("rounds percentages and survives an empty poll", () => {
    expect(percent(1, 3)).toBe(33);
    expect(percent(2, 3)).toBe(67);
    expect(percent(0, 0)).toBe(0);
  });

  it("counts votes in words", () => {
    expect(votes(1)).toBe("1 vote");
    expect(votes(0)).toBe("0 votes");
  });

  it("says how far a time is", () => {
    const now = Date.parse("2030-01-01T00:00:00Z");
    expect(fromNow("2030-01-01T00:00:00.500Z", now)).toBe("now");
    expect(fromNow("2030-01-01T00:05:00Z", now)).toMatch(/5/);
    expect(fromNow("2029-12-31T23:59:50Z", now)).toMatch(/10/);
    expect(fromNow("not a time", now)).toBe("");
  });
});
