import { Link } from "../components/Link";
import { PauseButton } from "../components/PauseButton";
import { RevealButton } from "../components/ResultsControl";
import { QrCode } from "../components/QrCode";
import { spacedCode } from "../components/SharePanel";
import { StatusPill } from "../components/StatusPill";
import { TallyBars } from "../components/TallyBars";
import { WatchingCount } from "../components/WatchingCount";
import { usePoll } from "../live/usePoll";
import { formatCount } from "../lib/format";
import { remembered } from "../lib/remembered";
import { pollPath } from "../lib/router";
import { tallySummary } from "../lib/summary";
import { useTitle } from "../lib/useTitle";
import { LoadFailure, Loading } from "./Loading";
import "./PresenterPage.css";

/** Results sized for a projector: the question, big bars, and the code to join. */
export function PresenterPage({ id }: { id: string }) {
  const { poll, loadError, state } = usePoll(id);
  useTitle(poll ? `Presenting: ${poll.question}` : "Presenter");
  if (loadError) return <LoadFailure message={loadError} />;
  if (!poll || !state) return <Loading what="poll" />;
  const closed = state.status === "closed";
  const paused = state.status === "paused";
  const ownerToken = remembered.ownerToken(id);
  // A multiple-choice poll's total counts people, each of whom chose several options.
  const several = poll.max_choices > 1;
  const noun = several ? "voter" : "vote";
  const url = `${location.origin}${pollPath(id)}`;
  const fullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void document.documentElement.requestFullscreen?.().catch(() => {});
  };
  return (
    <div className="presenter">
      <section className="glass presenter-results" aria-labelledby="present-question">
        <div className="poll-meta">
          <StatusPill poll={poll} status={state.status} />
          <WatchingCount count={state.watching} />
          <span className="presenter-tools">
            {ownerToken && (state.results ?? poll.results) !== "live" && <RevealButton id={id} ownerToken={ownerToken} />}
            {ownerToken && !closed && <PauseButton id={id} ownerToken={ownerToken} paused={paused} />}
            <button type="button" className="link-button" onClick={fullscreen}>Full screen</button>
            <Link className="link-button" href={pollPath(id)} aria-label="Exit presenter view">Exit</Link>
          </span>
        </div>
        <h1 id="present-question" tabIndex={-1} className="presenter-question">{poll.question}</h1>
        <TallyBars options={poll.options} tally={state.tally} myVote={[]} size="large" />
        <p className="presenter-total" aria-live="polite" data-testid="total" data-version={state.tally.version}>
          <span className="presenter-total-number">{formatCount(state.tally.total)}</span>
          <span className="visually-hidden">{tallySummary(poll.options, state.tally, closed, several)}</span>
          <span aria-hidden="true"> {noun}{state.tally.total === 1 ? "" : "s"}{closed ? " · final" : ""}</span>
        </p>
      </section>
      <aside className="glass presenter-join" aria-label="How to vote">
        <p className="presenter-join-title">{closed ? "Voting has ended" : paused ? "Voting is paused" : "Scan to vote"}</p>
        <QrCode text={url} className="presenter-qr" />
        <p className="presenter-url">{url.replace(/^https?:\/\//, "")}</p>
        {poll.join_code && (
          <p className="presenter-code">
            <span className="presenter-code-label">or go to {location.host}/j and type</span>
            <span className="presenter-code-value" data-testid="join-code">{spacedCode(poll.join_code)}</span>
          </p>
        )}
      </aside>
    </div>
  );
}
