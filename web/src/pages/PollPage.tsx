import { useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import { describeError } from "../api/errors";
import { ConfirmAction } from "../components/ConfirmAction";
import { ExportButtons } from "../components/ExportButtons";
import { Link } from "../components/Link";
import { PauseButton } from "../components/PauseButton";
import { ResultsControl } from "../components/ResultsControl";
import { SharePanel } from "../components/SharePanel";
import { StatusPill } from "../components/StatusPill";
import { TallyBars } from "../components/TallyBars";
import { VoteFeed } from "../components/VoteFeed";
import { WatchingCount } from "../components/WatchingCount";
import { pollActions, useRejection } from "../live";
import { isAccepted } from "../live/pollActions";
import { hidesCounts } from "../live/pollState";
import { usePoll } from "../live/usePoll";
import { type Choice, ChoiceQueue } from "../lib/choiceQueue";
import { remembered } from "../lib/remembered";
import { resultsNotice } from "../lib/resultsVisibility";
import { tallySummary } from "../lib/summary";
import { showToast } from "../lib/toasts";
import { useTitle } from "../lib/useTitle";
import { LoadFailure, Loading } from "./Loading";
import "./PollPage.css";

export function PollPage({ id }: { id: string }) {
  const { poll, loadError, state } = usePoll(id);
  const [myVote, setMyVote] = useState<readonly number[]>(() => remembered.myVote(id));
  const [pending, setPending] = useState<Choice | undefined>(undefined);
  // The option last pressed, shown busy while a choice is on its way.
  const [pressed, setPressed] = useState<number | null>(null);
  const [receipt, setReceipt] = useState("");
  // A vote the server accepted (202) and has not counted yet: shown as counting until a
  // tally newer than the one on screen when it was accepted arrives, or the server says
  // it was refused when it came to be counted (the poll closed meanwhile).
  const [counting, setCounting] = useState<{ words: string; after: number; receipt: string } | null>(null);
  const rejection = useRejection(id);
  // A tally without a single vote holds none of this voter's either: the owner reset
  // the poll (or this voter withdrew elsewhere). Versions only rise: it is not old news.
  const total = state?.tally.total;
  useEffect(() => {
    if (total === 0 && pending === undefined && remembered.myVote(id).length > 0) {
      setMyVote([]);
      remembered.setMyVote(id, []);
    }
  }, [id, total, pending]);
  // The voter's choices go out one at a time, the latest winning; the queue outlives
  // renders, so it calls the latest render's `send` through this ref.
  const send = useRef<(choice: Choice) => Promise<void>>(async () => {});
  const [choices] = useState(() => new ChoiceQueue<Choice>((choice) => send.current(choice), setPending));
  useTitle(poll?.question ?? "Poll");

  if (loadError) return <LoadFailure message={loadError} />;
  if (!poll || !state) return <Loading what="poll" />;

  const closed = state.status === "closed";
  const paused = state.status === "paused";
  const ownerToken = remembered.ownerToken(id);
  const results = state.results ?? poll.results;
  const notice = resultsNotice(results, hidesCounts(state.tally), ownerToken !== null);

  const remember = (options: readonly number[]) => {
    setMyVote(options);
    remembered.setMyVote(id, options);
  };
  const named = (options: readonly number[]) => options.map((option) => `“${poll.options[option]}”`).join(" and ");
  const most = poll.max_choices;

  // A press chooses that option; on a multiple-choice poll it adds the option to the
  // voter's set or takes it out (the set waiting to go out, if any, is the one to change).
  const press = (option: number) => {
    if (most === 1) {
      setPressed(option);
      choices.choose([option]);
      return;
    }
    const current = pending ?? myVote;
    const next = current.includes(option) ? current.filter((o) => o !== option) : [...current, option].sort((a, b) => a - b);
    if (next.length > most) {
      showToast("info", `Choose at most ${most} options: press one of yours to take it out first.`);
      return;
    }
    setPressed(option);
    choices.choose(next);
  };

  // The actions show their answers' tallies themselves (and re-fetch a poll that closed
  // under a refused vote); the page says what happened.
  const accepted = (words: string, receipt: string) => {
    setReceipt("");
    setCounting({ words, after: state.tally.version, receipt });
  };
  const countingWords = (shown: NonNullable<typeof counting>) => {
    if (rejection?.stream_id === shown.receipt) return `${shown.words}, but not counted: ${rejection.message}`;
    return `${shown.words}${state.tally.version > shown.after ? " and counted." : ": counting…"}`;
  };

  const vote = async (choice: Choice) => {
    try {
      const answer = await pollActions.vote(id, choice, inviteCode());
      if (isAccepted(answer)) {
        remember(choice);
        accepted(`Your vote for ${named(choice)} was accepted by node ${answer.node}`, answer.stream_id);
        return;
      }
      setCounting(null);
      // A newer choice of this voter (another tab) may have been applied already: what
      // stands is the answer's `choices`.
      remember(answer.vote.choices);
      const stands = answer.vote.choices.length === 0 ? "no vote" : named(answer.vote.choices);
      setReceipt(
        answer.vote.superseded
          ? `A newer choice of yours was already counted: ${stands} stands (node ${answer.vote.node}).`
          : `Your vote for ${named(answer.vote.options)} was counted by node ${answer.vote.node}.`,
      );
    } catch (error) {
      showToast("error", describeError(error));
    }
  };

  const withdraw = async () => {
    try {
      const answer = await pollActions.withdraw(id);
      if (isAccepted(answer)) {
        remember([]);
        accepted(`Your withdrawal was accepted by node ${answer.node}`, answer.stream_id);
        return;
      }
      setCounting(null);
      remember(answer.choices);
      setReceipt(answer.withdrawn ? `Your vote was withdrawn (node ${answer.node}).` : "You had no vote to withdraw.");
    } catch (error) {
      showToast("error", describeError(error));
    }
  };

  const reopen = async (token: string) => {
    try {
      await pollActions.reopen(id, token);
      showToast("info", "The poll is open again.");
    } catch (error) {
      showToast("error", describeError(error));
    }
  };

  send.current = (choice) => (choice.length === 0 ? withdraw() : vote(choice));

  return (
    <div className="poll-layout">
      <article className="glass poll-card" aria-labelledby="poll-question">
        <div className="poll-meta">
          <StatusPill poll={poll} status={state.status} />
          <WatchingCount count={state.watching} />
          <Link className="link-button" href={`/p/${id}/present`}>Present ↗</Link>
        </div>
        <h1 id="poll-question" tabIndex={-1} className="poll-question">{poll.question}</h1>
        <p className="muted poll-hint">
          {closed
            ? "Voting has ended. These are the final results."
            : paused
              ? "Voting is paused by the presenter. It takes votes again when it resumes."
              : most > 1
                ? `Choose up to ${most} options: press one to add it, press it again to take it out. You can change your mind until the poll closes.`
                : "Choose an option to vote. You can change your mind until the poll closes."}
        </p>
        {notice && (
          <p className="results-notice" data-testid="results-notice">{notice}</p>
        )}
        <TallyBars
          options={poll.options}
          tally={state.tally}
          myVote={myVote}
          pending={pending !== undefined ? pressed : null}
          onVote={closed || paused ? undefined : press}
        />
        <p className="poll-total" data-testid="total" data-version={state.tally.version} aria-live="polite">
          {tallySummary(poll.options, state.tally, closed, most > 1)}
        </p>
        <div className="poll-actions">
          {myVote.length > 0 && !closed && !paused && (
            <button type="button" className="button ghost" onClick={() => choices.choose([])}>
              Withdraw my vote
            </button>
          )}
          {ownerToken && !closed && poll.mode === "invite" && <InviteLinks id={id} ownerToken={ownerToken} />}
          {ownerToken && !closed && <PauseButton id={id} ownerToken={ownerToken} paused={paused} />}
          {ownerToken && !closed && (
            <ConfirmAction
              ask="Reset votes…"
              question="Take every vote out?"
              confirm="Reset votes"
              keep="Keep them"
              run={async () => void (await pollActions.reset(id, ownerToken))}
              done="Every vote was taken out. Voting goes on."
            />
          )}
          {ownerToken && !closed && (
            <ConfirmAction
              ask="Close poll…"
              question="Stop voting for everyone?"
              confirm="Close poll"
              keep="Keep open"
              run={async () => void (await pollActions.close(id, ownerToken))}
              done="The poll is closed. The results are final."
            />
          )}
          {ownerToken && closed && reopenable(poll.closes_at) && (
            <button type="button" className="button ghost" onClick={() => void reopen(ownerToken)}>
              Reopen poll
            </button>
          )}
          {ownerToken && <ResultsControl id={id} ownerToken={ownerToken} results={results} />}
          {ownerToken && <ExportButtons id={id} ownerToken={ownerToken} />}
        </div>
        <p className="receipt muted" role="status" data-testid="receipt">
          {counting ? countingWords(counting) : receipt}
        </p>
      </article>
      <aside className="poll-side">
        <SharePanel id={id} joinCode={poll.join_code} />
        <section className="glass side-card" aria-labelledby="feed-title">
          <h2 id="feed-title">Live votes</h2>
          <VoteFeed feed={state.feed} options={poll.options} hidden={hidesCounts(state.tally)} />
        </section>
      </aside>
    </div>
  );
}

/** A closed poll can be reopened by its owner until its closing time, if it has one. */
function reopenable(closesAt: string | null): boolean {
  return closesAt === null || Date.parse(closesAt) > Date.now();
}

/** The invite code of the link this page was opened with (`?invite=CODE`), if any. */
function inviteCode(): string | undefined {
  return new URLSearchParams(location.search).get("invite") ?? undefined;
}

/** The owner of an `invite` poll mints single-use links, shown once (only digests are kept). */
function InviteLinks({ id, ownerToken }: { id: string; ownerToken: string }) {
  const [links, setLinks] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const mint = async () => {
    setBusy(true);
    try {
      const { codes } = await api.mintInvites(id, 10, ownerToken);
      const base = `${location.origin}/p/${encodeURIComponent(id)}?invite=`;
      setLinks((shown) => [...shown, ...codes.map((code) => base + code)]);
    } catch (error) {
      showToast("error", describeError(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="invites">
      <button type="button" className="button ghost" onClick={mint} disabled={busy}>
        {busy ? "Minting…" : "10 invite links"}
      </button>
      {links.length > 0 && (
        <textarea className="input" readOnly rows={4} aria-label="Invite links, one per person" value={links.join("\n")} />
      )}
    </div>
  );
}

/** Closing is final, so it takes a second, deliberate press. */
