import type { NodeInfo } from "../proto";

/** One reading of the cluster: when it was taken, and each node's votes handled then. */
export interface Reading {
  at: number;
  handled: Map<string, number>;
}

/** A reading of `nodes` taken at `at` (milliseconds). */
export function reading(nodes: NodeInfo[], at: number): Reading {
  return { at, handled: new Map(nodes.map((n) => [n.id, n.votes_handled])) };
}

/**
 * Votes per second of each node between two readings. A node missing from the earlier
 * reading, or whose count went down (it restarted), has no rate yet.
 */
export function votesPerSecond(before: Reading | null, after: Reading): Map<string, number> {
  const rates = new Map<string, number>();
  const seconds = before ? (after.at - before.at) / 1000 : 0;
  if (!before || seconds <= 0) return rates;
  for (const [id, now] of after.handled) {
    const then = before.handled.get(id);
    if (then !== undefined && now >= then) rates.set(id, (now - then) / seconds);
  }
  return rates;
}
