import type { Poll, PollStatus } from "../proto";
import { fromNow } from "../lib/format";
import { useNow } from "../lib/useNow";
import "./StatusPill.css";

const WORDS: Record<PollStatus, string> = { open: "Open", paused: "Paused", closed: "Closed" };

/** Open, paused or closed, and when it closes by itself. */
export function StatusPill({ poll, status }: { poll: Poll; status: PollStatus }) {
  const now = useNow(1_000);
  const closing = status === "open" && poll.closes_at ? fromNow(poll.closes_at, now) : "";
  return (
    <span className={`pill pill-${status}`} data-testid="poll-status" data-status={status}>
      <span className="pill-dot" aria-hidden="true" />
      {WORDS[status]}
      {closing && <span className="pill-extra"> · closes {closing}</span>}
    </span>
  );
}
