import { describe, expect, it } from "vitest";
import type { NodeInfo } from "../proto";
import { reading, votesPerSecond } from "./throughput";

const node = (id: string, votes_handled: number): NodeInfo => ({
  id,
  sockets: 0,
  votes_handled,
  last_seen: "2026-12-01T00:00:00Z",
  version: "test",
  address: "127.0.0.1:1",
  replica_lag_ms: [],
  role: "node",
  ingest_backlog: null,
  ingest_lag_ms: null,
});

describe("votesPerSecond", () => {
  it("divides each node's new votes by the seconds between readings", () => {
    const before = reading([node("a", 100), node("w", 0)], 1_000);
    const after = reading([node("a", 300), node("w", 50)], 3_000);
    const rates = votesPerSecond(before, after);
    expect(rates.get("a")).toBe(100);
    expect(rates.get("w")).toBe(25);
  });

  it("has no rate for a new node, a restarted one, or without an earlier reading", () => {
    const before = reading([node("a", 500)], 0);
    const after = reading([node("a", 10), node("b", 40)], 2_000);
    const rates = votesPerSecond(before, after);
    expect(rates.has("a")).toBe(false);
    expect(rates.has("b")).toBe(false);
    expect(votesPerSecond(null, after).size).toBe(0);
  });
});
