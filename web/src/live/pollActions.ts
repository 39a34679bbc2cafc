// What a voter and a poll's owner do to a poll: vote, withdraw, close, reopen, reset,
// pause, who sees the results. Each action calls the API and offers its answer's tally (and status)
// to the live state here, in one place, so a page shows its own action at once, whatever the WebSocket brings after it
// (the newest version still wins: see pollState.ts). The page only says what happened.
//
// A server that takes votes through its ingest stream answers 202 with a receipt and no
// tally (`VoteAccepted`): the vote is counted later, and an update brings its tally.
//
// A vote names an existing voter: the browser is issued one before its first vote (and
// again if the server no longer knows its cookie). Every vote and withdrawal carries a
// `seq` that only rises, so a late retry of an older choice never undoes a newer one.

import type { api } from "../api/client";
import { ApiError } from "../api/errors";
import type { PollView, ResultsVisibility, VoteAccepted, VoteResponse, WithdrawResponse } from "../proto";
import type { PollReport } from "./pollState";

/** The API calls the actions make: the REST client, or a fake in tests. */
export type PollApi = Pick<
  typeof api,
  "getPoll" | "issueVoter" | "vote" | "withdraw" | "close" | "reopen" | "reset" | "pause" | "setResults"
>;

/** Whether this browser holds a voter: `remembered`, or a fake in tests. */
export type VoterMemory = { hasVoter(): boolean; setHasVoter(has: boolean): void };

/** Where the answers go: the live state the pages show (`live`), or a fake in tests. */
export type PollStore = { offer(poll: string, report: PollReport): void };

export type PollActions = {
  /** Votes for `choice`, one option or a set (with the invite code of an `invite`
   * poll's link, if any); rejects with the API's refusal, which the page shows. */
  vote(poll: string, choice: readonly number[], invite?: string): Promise<VoteResponse | VoteAccepted>;
  /** Withdraws this voter's vote; rejects with the API's refusal. */
  withdraw(poll: string): Promise<WithdrawResponse | VoteAccepted>;
  /** Closes the poll as its owner; rejects with the API's refusal. */
  close(poll: string, ownerToken: string): Promise<PollView>;
  /** Opens a poll its owner closed again (a higher version); rejects with the refusal. */
  reopen(poll: string, ownerToken: string): Promise<PollView>;
  /** Empties the poll's tally as its owner (a higher version); rejects with the refusal. */
  reset(poll: string, ownerToken: string): Promise<PollView>;
  /** Pauses (true) or resumes voting as its owner; rejects with the refusal. */
  pause(poll: string, paused: boolean, ownerToken: string): Promise<PollView>;
  /** Changes who sees the counts as its owner (a higher version); rejects with the refusal. */
  setResults(poll: string, results: ResultsVisibility, ownerToken: string): Promise<PollView>;
};

/** Refusals that mean the browser's voter cookie is missing or no longer valid. */
const NO_VOTER = new Set(["voter_required", "invalid_voter_token", "malformed_cookie"]);

export function createPollActions(
  client: PollApi,
  store: PollStore,
  voter: VoterMemory,
  clock: () => number = Date.now,
): PollActions {
  // The clock in milliseconds, kept increasing: unique per choice even within a
  // millisecond, and still rising across reloads of the page.
  let lastSeq = 0;
  const nextSeq = () => (lastSeq = Math.max(clock(), lastSeq + 1));

  const issueVoter = async () => {
    await client.issueVoter();
    voter.setHasVoter(true);
  };

  // Sends `call` as this browser's voter: gets one first when it has none, and once
  // more when the server no longer knows the one it had.
  const asVoter = async <T>(call: () => Promise<T>): Promise<T> => {
    if (!voter.hasVoter()) await issueVoter();
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ApiError && NO_VOTER.has(error.code))) throw error;
      voter.setHasVoter(false);
      await issueVoter();
      return call();
    }
  };

  // A refused vote may mean the page is behind (the poll closed): fetch the truth. The
  // refusal is passed on at once, without waiting for it (the voter's next choice, if
  // any, goes out meanwhile); a failed fetch changes nothing.
  const refused = (poll: string, error: unknown): never => {
    if (error instanceof ApiError && error.code === "poll_closed") {
      client.getPoll(poll).then(
        (view) => store.offer(poll, { tally: view.tally, status: view.poll.status }),
        () => {},
      );
    }
    throw error;
  };

  return {
    async vote(poll, choice, invite) {
      let answer: VoteResponse | VoteAccepted;
      try {
        const seq = nextSeq();
        answer = await asVoter(() => client.vote(poll, choice, seq, invite));
      } catch (error) {
        return refused(poll, error);
      }
      if (!isAccepted(answer)) store.offer(poll, { tally: answer.tally });
      return answer;
    },

    async withdraw(poll) {
      let answer: WithdrawResponse | VoteAccepted;
      try {
        const seq = nextSeq();
        answer = await asVoter(() => client.withdraw(poll, seq));
      } catch (error) {
        return refused(poll, error);
      }
      if (!isAccepted(answer)) store.offer(poll, { tally: answer.tally });
      return answer;
    },

    async close(poll, ownerToken) {
      const view = await client.close(poll, ownerToken);
      store.offer(poll, { tally: view.tally, status: view.poll.status });
      return view;
    },

    async reopen(poll, ownerToken) {
      const view = await client.reopen(poll, ownerToken);
      store.offer(poll, { tally: view.tally, status: view.poll.status });
      return view;
    },

    async reset(poll, ownerToken) {
      const view = await client.reset(poll, ownerToken);
      store.offer(poll, { tally: view.tally });
      return view;
    },

    async pause(poll, paused, ownerToken) {
      const view = await client.pause(poll, paused, ownerToken);
      store.offer(poll, { tally: view.tally, status: view.poll.status });
      return view;
    },

    async setResults(poll, results, ownerToken) {
      const view = await client.setResults(poll, results, ownerToken);
      store.offer(poll, { tally: view.tally, status: view.poll.status, results: view.poll.results });
      return view;
    },
  };
}

/** A 202: recorded in the server's ingest stream, counted later. */
export function isAccepted(answer: object): answer is VoteAccepted {
  return "stream_id" in answer;
}
