import type { FeedEntry } from "../live/pollState";
import { fromNow } from "../lib/format";
import { nodeStyle } from "../lib/nodeColor";
import { useNow } from "../lib/useNow";
import "./VoteFeed.css";

type Props = {
  feed: FeedEntry[];
  options: string[];
  /** The results are hidden from this browser: the server sends no votes to list. */
  hidden?: boolean;
};

/** The options a vote chose, in words: "tea" or "tea, mate". */
function chosenText(entry: FeedEntry, options: string[]): string {
  const chosen = entry.options && entry.options.length > 0 ? entry.options : [entry.option ?? 0];
  return chosen.map((option) => options[option] ?? `option ${option + 1}`).join(", ");
}

/** The latest votes as they arrive, each with the node that handled it. */
export function VoteFeed({ feed, options, hidden = false }: Props) {
  const now = useNow(1_000);
  if (feed.length === 0) {
    const empty = hidden
      ? "Votes appear here once you can see the results."
      : "Votes appear here the moment they are counted, on any node.";
    return <p className="muted feed-empty">{empty}</p>;
  }
  return (
    <ol className="feed" data-testid="feed">
      {feed.map((entry) => (
        <li key={entry.key} className="feed-item" data-node={entry.node} style={nodeStyle(entry.node)}>
          <span className="node-swatch" aria-hidden="true" />
          <span className="feed-what">
            {entry.option === null ? <em>vote withdrawn</em> : chosenText(entry, options)}
            {entry.more > 0 && <span className="muted"> +{entry.more} more</span>}
          </span>
          <span className="feed-node">
            <span className="visually-hidden">handled by </span>
            {entry.node}
          </span>
          <time className="feed-time muted" dateTime={entry.at}>{fromNow(entry.at, now)}</time>
        </li>
      ))}
    </ol>
  );
}
