// Who sees a poll's counts (its `results`), in the words the pages use.

import type { ResultsVisibility } from "../proto";

/** The choices the create form and the owner's control offer, in order. */
export const RESULTS_CHOICES: [ResultsVisibility, string][] = [
  ["live", "Everyone, live"],
  ["after_vote", "Each voter once they have voted"],
  ["after_close", "Everyone once the poll closes"],
  ["hidden", "Only me, until I reveal them"],
];

/**
 * What the page says about the results, or null when there is nothing to say (they are
 * live, or shown to this browser because it voted or the poll closed). `hidden`: this
 * browser was sent the tally without its counts; `owner`: it holds the owner token.
 */
export function resultsNotice(results: ResultsVisibility | undefined, hidden: boolean, owner: boolean): string | null {
  if (!results || results === "live") return null;
  if (owner) {
    const who: Record<Exclude<ResultsVisibility, "live">, string> = {
      after_vote: "Voters see the results once they have voted.",
      after_close: "Everyone sees the results when the poll closes.",
      hidden: "Only you see the results until you reveal them.",
    };
    return who[results];
  }
  if (!hidden) return null;
  const why: Record<Exclude<ResultsVisibility, "live">, string> = {
    after_vote: "The results show once you vote.",
    after_close: "The results show when the poll closes.",
    hidden: "The presenter keeps the results hidden for now.",
  };
  return why[results];
}
