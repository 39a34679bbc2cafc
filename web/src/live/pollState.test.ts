import { describe, expect, it } from "vitest";
import type { ServerMessage, Tally } from "../proto";
import { FEED_LIMIT, type LivePoll, mergeReport, reportOf } from "./pollState";

const tally = (version: number, counts: number[]): Tally => ({
  version,
  counts,
  total: counts.reduce((a, b) => a + b, 0),
});
const vote = (option: number, node = "n1") => ({ option, node, at: "2030-01-01T00:00:00Z" });
const open = (version: number, counts: number[]): LivePoll => ({
  status: "open",
  tally: tally(version, counts),
  feed: [],
});

describe("mergeReport", () => {
  it("takes the first report as it is", () => {
    const shown = mergeReport(undefined, { tally: tally(3, [1, 2]), status: "open" });
    expect(shown).toEqual({ status: "open", tally: tally(3, [1, 2]), feed: [] });
  });

  it("replaces the tally with a higher version", () => {
    const shown = mergeReport(open(3, [1, 2]), { tally: tally(4, [2, 2]) });
    expect(shown.tally).toEqual(tally(4, [2, 2]));
  });

  it("never shows a lower version, and returns the same object for stale news", () => {
    const current = open(5, [3, 2]);
    expect(mergeReport(current, { tally: tally(4, [2, 2]) })).toBe(current);
    expect(mergeReport(current, { tally: tally(1, [1, 0]), status: "open" })).toBe(current);
  });

  it("ignores a duplicate of the version shown", () => {
    const current = open(5, [3, 2]);
    expect(mergeReport(current, { tally: tally(5, [3, 2]), recent: [vote(0)] })).toBe(current);
  });

  it("takes a watching count at the shown version or newer, never from older news", () => {
    const current = open(5, [3, 2]);
    const recounted = mergeReport(current, { tally: tally(5, [3, 2]), watching: 12 });
    expect(recounted).toMatchObject({ tally: tally(5, [3, 2]), watching: 12, feed: [] });
    expect(mergeReport(recounted, { tally: tally(4, [2, 2]), watching: 3 })).toBe(recounted);
    expect(mergeReport(recounted, { tally: tally(5, [3, 2]), watching: 12 })).toBe(recounted);
    expect(mergeReport(recounted, { tally: tally(6, [4, 2]) }).watching).toBe(12);
  });

  it("pauses and resumes with the newer versions that carry them", () => {
    const paused = mergeReport(open(5, [3, 2]), { tally: tally(6, [3, 2]), status: "paused" });
    expect(paused.status).toBe("paused");
    expect(mergeReport(paused, { tally: tally(5, [3, 2]), status: "open" })).toBe(paused);
    expect(mergeReport(paused, { tally: tally(7, [3, 2]), status: "open" }).status).toBe("open");
  });

  it("applies a close at the same version without touching the tally", () => {
    const current = open(5, [3, 2]);
    const shown = mergeReport(current, { tally: tally(5, [3, 2]), status: "closed" });
    expect(shown.status).toBe("closed");
    expect(shown.tally).toBe(current.tally);
  });

  it("ignores a close older than the tally shown", () => {
    const current = open(5, [3, 2]);
    expect(mergeReport(current, { tally: tally(4, [2, 2]), status: "closed" })).toBe(current);
  });

  it("reopens a closed poll only with a newer version, which only a reopen brings", () => {
    const closed: LivePoll = { ...open(5, [3, 2]), status: "closed" };
    expect(mergeReport(closed, { tally: tally(5, [3, 2]), status: "open" })).toBe(closed);
    expect(mergeReport(closed, { tally: tally(4, [3, 1]), status: "open" })).toBe(closed);
    expect(mergeReport(closed, { tally: tally(6, [3, 2]), status: "open" }).status).toBe("open");
    // A vote's answer says no status: the poll stays as shown.
    expect(mergeReport(closed, { tally: tally(6, [3, 3]) }).status).toBe("closed");
  });

  it("puts recent votes of applied updates in the feed, newest first, with skipped counts", () => {
    const first = mergeReport(open(1, [1, 0]), {
      tally: tally(3, [2, 1]),
      recent: [vote(0, "a"), vote(1, "b")],
      skipped: 0,
    });
    const second = mergeReport(first, { tally: tally(6, [3, 3]), recent: [vote(1, "c")], skipped: 2 });
    expect(second.feed.map((v) => [v.node, v.more])).toEqual([
      ["c", 2],
      ["b", 0],
      ["a", 0],
    ]);
    expect(new Set(second.feed.map((v) => v.key)).size).toBe(3);
  });

  it("takes counts at the version shown without them, never the reverse", () => {
    const hidden: LivePoll = { status: "open", tally: { version: 6, counts: [], total: 3 }, results: "after_vote", feed: [] };
    const revealed = mergeReport(hidden, { tally: tally(6, [1, 2]), results: "after_vote" });
    expect(revealed.tally).toEqual(tally(6, [1, 2]));
    expect(mergeReport(revealed, { tally: { version: 6, counts: [], total: 3 } })).toBe(revealed);
  });

  it("takes who sees the results from the newest report", () => {
    const hidden: LivePoll = { ...open(6, [1, 2]), results: "hidden" };
    expect(mergeReport(hidden, { tally: tally(7, [1, 2]), results: "live" }).results).toBe("live");
    expect(mergeReport(hidden, { tally: tally(5, [1, 1]), results: "live" }).results).toBe("hidden");
  });

  it("keeps at most FEED_LIMIT feed entries", () => {
    let shown = open(0, [0, 0]);
    for (let v = 1; v <= FEED_LIMIT + 5; v++) {
      shown = mergeReport(shown, { tally: tally(v, [v, 0]), recent: [vote(0)] });
    }
    expect(shown.feed).toHaveLength(FEED_LIMIT);
    expect(shown.feed[0]!.key).toBe(`${FEED_LIMIT + 5}:0`);
  });
});

describe("reportOf", () => {
  it("reads snapshot, update and closed, and nothing from hello or error", () => {
    const t = tally(2, [1, 1]);
    const messages: ServerMessage[] = [
      { type: "snapshot", poll: "p", status: "open", tally: t },
      { type: "update", poll: "p", tally: t, recent: [], skipped: 0 },
      { type: "update", poll: "p", status: "paused", tally: t, recent: [], skipped: 0 },
      { type: "closed", poll: "p", tally: t },
      { type: "hello", node: "n", protocol: 1 },
      { type: "error", code: "rate_limited", message: "slow down" },
    ];
    // An update without a status is about an open poll.
    expect(messages.map((m) => reportOf(m)?.report.status ?? null)).toEqual([
      "open",
      "open",
      "paused",
      "closed",
      null,
      null,
    ]);
    expect(reportOf(messages[4]!)).toBeNull();
  });
});
