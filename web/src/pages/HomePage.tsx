import { useCallback, useEffect, useState } from "react";
import { api } from "../api/client";
import { describeError } from "../api/errors";
import { CreatePollForm } from "../components/CreatePollForm";
import { JoinForm } from "../components/JoinForm";
import { Link } from "../components/Link";
import { formatCount, fromNow, votes } from "../lib/format";
import { pollPath } from "../lib/router";
import { useNow } from "../lib/useNow";
import { useTitle } from "../lib/useTitle";
import type { PollListItem } from "../proto";
import "./HomePage.css";

const REFRESH_MS = 10_000;

export function HomePage() {
  useTitle("");
  return (
    <div className="home">
      <section className="hero">
        <h1 tabIndex={-1}>Ask the room.<br /><span className="gradient-text">Watch it answer live.</span></h1>
        <p className="muted hero-sub">
          Create a poll, share the link, the QR code or its join code, and see every vote land the moment it is counted, on every screen.
        </p>
        <div className="glass hero-join">
          <JoinForm />
        </div>
      </section>
      <div className="home-grid">
        <CreatePollForm />
        <OpenPolls />
      </div>
    </div>
  );
}

function OpenPolls() {
  const [polls, setPolls] = useState<PollListItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const now = useNow(5_000);

  const refresh = useCallback(async () => {
    try {
      const list = await api.listPolls(20);
      setPolls(list.polls);
      setError(null);
    } catch (failure) {
      setError(describeError(failure));
    }
  }, []);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  return (
    <section className="glass open-polls" aria-labelledby="open-title">
      <div className="section-head">
        <h2 id="open-title">Open polls</h2>
        <button type="button" className="link-button" onClick={() => void refresh()}>Refresh</button>
      </div>
      {error && <p className="inline-error" role="alert">{error}</p>}
      {polls === null && !error && <p className="muted">Loading…</p>}
      {polls?.length === 0 && <p className="muted empty">No open polls yet. Yours could be the first.</p>}
      {polls && polls.length > 0 && (
        <ul className="poll-list" data-testid="open-polls">
          {polls.map(({ poll, total }) => (
            <li key={poll.id}>
              <Link className="poll-row" href={pollPath(poll.id)}>
                <span className="poll-row-question">{poll.question}</span>
                <span className="poll-row-meta muted">
                  {formatCount(poll.options.length)} options · {votes(total)}
                  {poll.closes_at ? ` · closes ${fromNow(poll.closes_at, now)}` : ""}
                </span>
                <span className="poll-row-arrow" aria-hidden="true">→</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
