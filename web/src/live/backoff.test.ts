import { describe, expect, it } from "vitest";
import { RECONNECT_MAX_MS, reconnectDelay } from "./backoff";

describe("reconnectDelay", () => {
  it("doubles its window and stays in the upper half of it", () => {
    const low = [0, 1, 2, 3, 4].map((a) => reconnectDelay(a, () => 0));
    const high = [0, 1, 2, 3, 4].map((a) => reconnectDelay(a, () => 1));
    expect(low).toEqual([250, 500, 1000, 2000, 4000]);
    expect(high).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it("never waits longer than the ceiling, however many attempts failed", () => {
    expect(reconnectDelay(5, () => 1)).toBe(RECONNECT_MAX_MS);
    expect(reconnectDelay(60, () => 1)).toBe(RECONNECT_MAX_MS);
    expect(reconnectDelay(60, () => 0)).toBe(RECONNECT_MAX_MS / 2);
  });

  it("spreads browsers out: different random draws give different waits", () => {
    const waits = new Set([0.1, 0.4, 0.7, 0.9].map((r) => reconnectDelay(3, () => r)));
    expect(waits.size).toBe(4);
  });
});
