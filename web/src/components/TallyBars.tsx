import type { CSSProperties } from "react";
import type { Tally } from "../proto";
import { hidesCounts } from "../live/pollState";
import { formatCount, percent } from "../lib/format";
import "./TallyBars.css";

type Props = {
  options: string[];
  tally: Tally;
  /** The options of this browser's vote (none: no vote). */
  myVote: readonly number[];
  /** Voting is possible (open poll, not presenting). Without it the bars are read-only. */
  onVote?: (option: number) => void;
  /** The option whose vote is on its way, if any. */
  pending?: number | null;
  size?: "normal" | "large";
};

/**
 * One bar per option, sized by its share; each is the button that votes for it. A tally
 * without counts (the poll's results are hidden from this browser) shows the options
 * alone: no share, no number.
 */
export function TallyBars({ options, tally, myVote, onVote, pending = null, size = "normal" }: Props) {
  const hidden = hidesCounts(tally);
  const leader = Math.max(0, ...tally.counts);
  return (
    <ol className={`bars bars-${size}`} data-testid="bars" data-hidden={hidden || undefined}>
      {options.map((label, option) => {
        const count = tally.counts[option] ?? 0;
        const share = percent(count, tally.total);
        const mine = myVote.includes(option);
        const style = { "--share": `${tally.total ? count / tally.total : 0}` } as CSSProperties;
        // The bar's name is its content, read in the order it is shown ("tea, your vote,
        // 40%, 2 votes"): the words only a screen reader needs are visually hidden.
        const body = (
          <>
            <span className="bar-fill" style={style} aria-hidden="true" />
            <span className="bar-label">
              {mine && <span className="mine-mark" aria-hidden="true">✓</span>}
              <span className="bar-text">{label}</span>
              <span className="visually-hidden">{mine ? ", your vote, " : ", "}</span>
              {mine && <span className="mine-tag" aria-hidden="true">Your vote</span>}
            </span>
            {!hidden && (
              <span className="bar-numbers">
                <span className="bar-percent">{share}%</span>
                <span className="visually-hidden">, </span>
                <span className="bar-count">
                  {formatCount(count)}
                  <span className="visually-hidden">{count === 1 ? " vote" : " votes"}</span>
                </span>
              </span>
            )}
          </>
        );
        const classes = ["bar", mine ? "bar-mine" : "", count > 0 && count === leader ? "bar-leading" : "", pending === option ? "bar-pending" : ""]
          .filter(Boolean)
          .join(" ");
        return (
          <li key={option} data-testid="option" data-count={hidden ? undefined : count}>
            {onVote ? (
              <button
                type="button"
                className={classes}
                aria-pressed={mine}
                aria-busy={pending === option}
                // Always clickable: a choice made while another is on its way is sent
                // after it, the latest one winning (see lib/choiceQueue).
                onClick={() => onVote(option)}
              >
                {body}
              </button>
            ) : (
              <div className={classes}>
                {body}
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}
