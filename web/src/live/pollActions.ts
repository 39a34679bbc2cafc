// What a voter and a poll's owner do to a poll: vote, withdraw, close. Each action calls
// the API and offers its answer's tally (and status) to the live state here, in one
// place, so a page shows its own action at once, whatever the WebSocket brings after it
// (the newest version still wins: see pollState.ts). The page only says what happened.

import type { api } from "../api/client";
import { ApiError } from "../api/errors";
import type { PollView, VoteResponse, WithdrawResponse } from "../proto";
import type { PollReport } from "./pollState";

/** The API calls the actions make: the REST client, or a fake in tests. */
export type PollApi = Pick<typeof api, "getPoll" | "vote" | "withdraw" | "close">;

/** Where the answers go: the live state the pages show (`live`), or a fake in tests. */
export type PollStore = { offer(poll: string, report: PollReport): void };

export type PollActions = {
  /** Votes for `option`; rejects with the API's refusal, which the page shows. */
  vote(poll: string, option: number): Promise<VoteResponse>;
  /** Withdraws this voter's vote; rejects with the API's refusal. */
  withdraw(poll: string): Promise<WithdrawResponse>;
  /** Closes the poll as its owner; rejects with the API's refusal. */
  close(poll: string, ownerToken: string): Promise<PollView>;
};

export function createPollActions(client: PollApi, store: PollStore): PollActions {
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
    async vote(poll, option) {
      let answer: VoteResponse;
      try {
        answer = await client.vote(poll, option);
      } catch (error) {
        return refused(poll, error);
      }
      store.offer(poll, { tally: answer.tally });
      return answer;
    },

    async withdraw(poll) {
      let answer: WithdrawResponse;
      try {
        answer = await client.withdraw(poll);
      } catch (error) {
        return refused(poll, error);
      }
      store.offer(poll, { tally: answer.tally });
      return answer;
    },

    async close(poll, ownerToken) {
      const view = await client.close(poll, ownerToken);
      store.offer(poll, { tally: view.tally, status: view.poll.status });
      return view;
    },
  };
}
