import { formatCount } from "../lib/format";
import "./WatchingCount.css";

/** How many people have the poll open right now, over every node (counted every ~2 s). */
export function WatchingCount({ count }: { count: number | undefined }) {
  if (count === undefined) return null;
  return (
    <span className="watching" data-testid="watching" data-count={count}>
      <span className="watching-dot" aria-hidden="true" />
      {formatCount(count)} watching
    </span>
  );
}
