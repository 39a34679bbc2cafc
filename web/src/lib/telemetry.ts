// The control room's history: what each node's telemetry said over the last minutes, as
// the charts draw it. The feed sends cumulative counters (votes handled, frames sent);
// rates come from two samples in a row, and a counter that went down (a restarted
// node) or a node seen for the first time has no rate yet.

import type { NodeInfo } from "../proto";

/** Samples kept per node: two minutes at one every two seconds. */
export const HISTORY = 60;

/** One node's figures at one sample. */
export type Point = {
  at: number;
  votesPerSec: number | null;
  framesPerSec: number | null;
  commitP50: number | null;
  commitP99: number | null;
  /** Per replica, as this node measures it. */
  replicaLag: number[];
};

export type History = {
  /** Each node's counters at its last sample. */
  last: Map<string, { at: number; votes: number; frames: number }>;
  /** Each node's points, oldest first, at most HISTORY. */
  series: Map<string, Point[]>;
};

export const emptyHistory = (): History => ({ last: new Map(), series: new Map() });

/** `history` with the sample of `nodes` taken at `at` (milliseconds) added. */
export function advance(history: History, nodes: NodeInfo[], at: number): History {
  const last = new Map<string, { at: number; votes: number; frames: number }>();
  const series = new Map<string, Point[]>();
  for (const node of nodes) {
    const before = history.last.get(node.id);
    const seconds = before ? (at - before.at) / 1000 : 0;
    const rate = (now: number, then: number | undefined) =>
      then !== undefined && seconds > 0 && now >= then ? (now - then) / seconds : null;
    const point: Point = {
      at,
      votesPerSec: rate(node.votes_handled, before?.votes),
      framesPerSec: rate(node.frames_sent, before?.frames),
      commitP50: node.commit_ms?.p50 ?? null,
      commitP99: node.commit_ms?.p99 ?? null,
      replicaLag: node.replica_lag_ms,
    };
    series.set(node.id, [...(history.series.get(node.id) ?? []), point].slice(-HISTORY));
    last.set(node.id, { at, votes: node.votes_handled, frames: node.frames_sent });
  }
  return { last, series };
}

/** The nodes that took votes in either of the last two samples: the diagram lights
 * their paths (two samples, so a burst does not flicker). */
export function busyNodes(history: History): Set<string> {
  const busy = new Set<string>();
  for (const [node, series] of history.series) {
    if (series.slice(-2).some((point) => (point.votesPerSec ?? 0) > 0)) busy.add(node);
  }
  return busy;
}

/** The latest point of each node, for the cards and the diagram. */
export function latest(history: History): Map<string, Point> {
  const points = new Map<string, Point>();
  for (const [node, series] of history.series) {
    const point = series[series.length - 1];
    if (point) points.set(node, point);
  }
  return points;
}
