import { describe, expect, it } from "vitest";
import type { NodeInfo } from "../proto";
import { HISTORY, advance, busyNodes, emptyHistory, latest } from "./telemetry";

const node = (id: string, votes_handled: number, frames_sent = 0): NodeInfo => ({
  id,
  sockets: 0,
  votes_handled,
  last_seen: "2026-12-01T00:00:00Z",
  version: "test",
  address: "127.0.0.1:1",
  replica_lag_ms: [12],
  role: "node",
  ingest_backlog: null,
  ingest_lag_ms: null,
  frames_sent,
  commit_ms: { p50: 2, p99: 9.5, commits: 40 },
  bus_connected: true,
});

describe("advance", () => {
  it("turns counters into rates between two samples, per node", () => {
    let history = advance(emptyHistory(), [node("a", 100, 1_000), node("w", 0)], 1_000);
    history = advance(history, [node("a", 300, 5_000), node("w", 50)], 3_000);
    const points = latest(history);
    expect(points.get("a")).toMatchObject({ votesPerSec: 100, framesPerSec: 2_000, commitP99: 9.5, replicaLag: [12] });
    expect(points.get("w")?.votesPerSec).toBe(25);
    expect(history.series.get("a")?.map((p) => p.votesPerSec)).toEqual([null, 100]);
  });

  it("has no rate for a new node or a restarted one, and drops nodes that left", () => {
    let history = advance(emptyHistory(), [node("a", 500)], 0);
    history = advance(history, [node("a", 10), node("b", 40)], 2_000);
    expect(latest(history).get("a")?.votesPerSec).toBeNull();
    expect(latest(history).get("b")?.votesPerSec).toBeNull();
    history = advance(history, [node("b", 60)], 4_000);
    expect([...history.series.keys()]).toEqual(["b"]);
  });

  it("counts a node busy while either of its last two samples saw votes", () => {
    let history = advance(emptyHistory(), [node("a", 0), node("b", 0)], 0);
    history = advance(history, [node("a", 10), node("b", 0)], 2_000);
    expect([...busyNodes(history)]).toEqual(["a"]);
    history = advance(history, [node("a", 10), node("b", 0)], 4_000);
    expect([...busyNodes(history)]).toEqual(["a"]);
    history = advance(history, [node("a", 10), node("b", 0)], 6_000);
    expect([...busyNodes(history)]).toEqual([]);
  });

  it("keeps at most HISTORY points per node", () => {
    let history = emptyHistory();
    for (let i = 0; i < HISTORY + 5; i++) history = advance(history, [node("a", i)], i * 2_000);
    expect(history.series.get("a")).toHaveLength(HISTORY);
  });
});
