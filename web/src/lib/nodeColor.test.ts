import { describe, expect, it } from "vitest";
import { nodeHue, nodeStyle } from "./nodeColor";

describe("node colours", () => {
  it("is stable for a name", () => {
    expect(nodeStyle("node-1")).toEqual({ "--node-hue": nodeHue("node-1") });
    expect(nodeHue("e2e-node")).toBeGreaterThanOrEqual(0);
    expect(nodeHue("e2e-node")).toBeLessThan(360);
  });

  it("tells the nodes of a cluster apart", () => {
    const hues = ["node-1", "node-2", "node-3"].map(nodeHue);
    for (const [i, a] of hues.entries()) {
      for (const b of hues.slice(i + 1)) {
        const gap = Math.min(Math.abs(a - b), 360 - Math.abs(a - b));
        expect(gap).toBeGreaterThan(20);
      }
    }
  });
});
