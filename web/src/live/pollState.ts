// What the page shows of one poll, and the one rule that keeps it right: a tally is
// replaced only by a newer one (higher version). Messages can arrive late, twice, or
// out of order (reconnects, several nodes, REST answers racing WebSocket updates);
// this rule makes all of that harmless.

import type { PollStatus, RecentVote, ResultsVisibility, ServerMessage, Tally } from "../proto";

/** One vote in the live feed. `more` counts votes folded into the same update unlisted. */
export type FeedEntry = RecentVote & { key: string; more: number };

export type LivePoll = {
  status: PollStatus;
  /** A tally whose `counts` is empty: the poll's results are hidden from this browser. */
  tally: Tally;
  /** Who sees the counts, as the newest report said; unknown before one says. */
  results?: ResultsVisibility;
  /** Newest first, at most FEED_LIMIT. */
  feed: FeedEntry[];
  /** Sockets watching the poll over every node, once the server has said. */
  watching?: number;
};

export const FEED_LIMIT = 30;

/** What one source (a WebSocket message or a REST answer) says about a poll. */
export type PollReport = {
  tally: Tally;
  status?: PollStatus;
  results?: ResultsVisibility;
  recent?: RecentVote[];
  skipped?: number;
  watching?: number;
};

/** The poll and report a server message carries, or null for messages about no poll. */
export function reportOf(message: ServerMessage): { poll: string; report: PollReport } | null {
  switch (message.type) {
    case "snapshot":
      return {
        poll: message.poll,
        report: {
          tally: message.tally,
          status: message.status,
          results: message.results ?? "live",
          watching: message.watching,
        },
      };
    case "update":
      return {
        poll: message.poll,
        report: {
          tally: message.tally,
          // An update says `paused` while the poll is; it says nothing when it is open.
          status: message.status ?? "open",
          results: message.results ?? "live",
          recent: message.recent,
          skipped: message.skipped,
          watching: message.watching,
        },
      };
    case "closed":
      return { poll: message.poll, report: { tally: message.tally, status: "closed" } };
    case "hello":
    case "cluster":
    case "rejected":
    case "error":
      return null;
  }
}

/**
 * Folds a report into what is shown. Returns `current` itself when nothing changes, so
 * a stale or duplicate message causes no re-render.
 *
 * - A higher version replaces the tally (and brings its recent votes into the feed).
 * - At an equal version only a status change applies: a poll that closed without a
 *   new vote still shows as closed. And counts replace a tally shown without them
 *   (the same version, told to a reader who may see them).
 * - A lower version changes nothing.
 * - A closed poll shows as open again only with a newer version: its owner reopened it
 *   (a reopen raises the version; a close does not), so an "open" report at the closed
 *   version or older is older news (a lagging replica, a late REST answer).
 * - The watching count comes with socket messages only, in order: the latest one at the
 *   shown version or newer stands.
 */
export function mergeReport(current: LivePoll | undefined, report: PollReport): LivePoll {
  if (!current) {
    return {
      status: report.status ?? "open",
      tally: report.tally,
      results: report.results,
      feed: feedOf(report),
      watching: report.watching,
    };
  }
  const shown = current.tally.version;
  const incoming = report.tally.version;
  const newer = incoming > shown || (incoming === shown && hidesCounts(current.tally) && !hidesCounts(report.tally));
  const closes = report.status === "closed" && current.status !== "closed" && incoming >= shown;
  const recount = report.watching !== undefined && report.watching !== current.watching && incoming >= shown;
  if (!newer && !closes && !recount) return current;
  return {
    status: closes ? "closed" : newer && incoming > shown ? (report.status ?? current.status) : current.status,
    tally: newer ? report.tally : current.tally,
    results: newer ? (report.results ?? current.results) : current.results,
    feed: newer ? [...feedOf(report), ...current.feed].slice(0, FEED_LIMIT) : current.feed,
    watching: recount ? report.watching : current.watching,
  };
}

/** True when `tally` comes without its counts: the results are hidden from this browser. */
export function hidesCounts(tally: Tally): boolean {
  return tally.counts.length === 0;
}

/** The report's recent votes as feed entries, newest first. */
function feedOf(report: PollReport): FeedEntry[] {
  const recent = report.recent ?? [];
  const version = report.tally.version;
  return recent
    .map((vote, i) => ({
      ...vote,
      key: `${version}:${i}`,
      more: i === recent.length - 1 ? (report.skipped ?? 0) : 0,
    }))
    .reverse()
    .slice(0, FEED_LIMIT);
}
