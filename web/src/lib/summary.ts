import type { Tally } from "../proto";
import { percent, voters, votes } from "./format";

/**
 * One sentence for the tally, read out by screen readers as it changes. On a
 * multiple-choice poll (`several`) the total counts voters, each of whom chose several.
 */
export function tallySummary(options: string[], tally: Tally, closed: boolean, several = false): string {
  const total = several ? voters(tally.total) : votes(tally.total);
  if (tally.total === 0) return closed ? "Closed with no votes." : "No votes yet.";
  if (tally.counts.length === 0) return `${closed ? "Final: " : ""}${total}. The results are hidden.`;
  const top = Math.max(...tally.counts);
  const leaders = options.filter((_, i) => tally.counts[i] === top);
  const standing =
    leaders.length === 1
      ? `${leaders[0]} ${closed ? "won" : "leads"} with ${percent(top, tally.total)}%`
      : `${leaders.join(" and ")} are tied`;
  return `${closed ? "Final: " : ""}${total}. ${standing}.`;
}
