import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/errors";
import type { Poll, PollStatus, PollView, Tally } from "../proto";
import { type PollApi, type VoterMemory, createPollActions, isAccepted } from "./pollActions";
import type { PollReport } from "./pollState";

const tally = (version: number, counts: number[]): Tally => ({
  version,
  counts,
  total: counts.reduce((a, b) => a + b, 0),
});

const view = (status: PollStatus, t: Tally): PollView => {
  const poll: Poll = {
    id: "p1",
    question: "Tea or coffee?",
    options: ["tea", "coffee"],
    created_at: "2030-01-01T00:00:00Z",
    closes_at: null,
    closed_at: status === "closed" ? "2030-01-01T01:00:00Z" : null,
    status,
    mode: "open",
    join_code: "K7P2QX",
    listed: true,
    results: "live",
    max_choices: 1,
  };
  return { poll, tally: t };
};

const refusal = (code: "poll_closed" | "rate_limited" | "option_out_of_range") =>
  new ApiError(code === "poll_closed" ? 409 : 429, code, `refused: ${code}`);

/** A fake API whose every call fails unless the test says what it answers. */
function fakeApi(answers: Partial<PollApi> = {}) {
  const unexpected = (name: string) => () => Promise.reject(new Error(`unexpected call: ${name}`));
  const client: PollApi = {
    getPoll: vi.fn(answers.getPoll ?? unexpected("getPoll")),
    issueVoter: vi.fn(answers.issueVoter ?? (() => Promise.resolve({ voter_token: "t" }))),
    vote: vi.fn(answers.vote ?? unexpected("vote")),
    withdraw: vi.fn(answers.withdraw ?? unexpected("withdraw")),
    close: vi.fn(answers.close ?? unexpected("close")),
    reopen: vi.fn(answers.reopen ?? unexpected("reopen")),
    reset: vi.fn(answers.reset ?? unexpected("reset")),
    pause: vi.fn(answers.pause ?? unexpected("pause")),
    setResults: vi.fn(answers.setResults ?? unexpected("setResults")),
  };
  return client;
}

/** A fake live store: it only records what it was offered. */
function fakeStore() {
  const offers: [string, PollReport][] = [];
  return { offers, offer: (poll: string, report: PollReport) => void offers.push([poll, report]) };
}

/** A browser that holds a voter already, unless told otherwise. */
function fakeVoter(has = true): VoterMemory & { has: boolean } {
  const memory = { has, hasVoter: () => memory.has, setHasVoter: (h: boolean) => void (memory.has = h) };
  return memory;
}

/** A clock that reads `times` in turn. */
const clockOf = (...times: number[]) => () => times.shift() ?? 0;

/** Lets promise callbacks the actions did not wait for (the re-fetch) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("poll actions", () => {
  it("a vote offers the answer's tally and returns the answer", async () => {
    const answer = {
      vote: { poll: "p1", option: 1, options: [1], seq: 1000, superseded: false, choice: 1, choices: [1], version: 4, node: "n1" },
      tally: tally(4, [1, 3]),
    };
    const client = fakeApi({ vote: () => Promise.resolve(answer) });
    const store = fakeStore();
    await expect(createPollActions(client, store, fakeVoter(), clockOf(1000, 2000, 3000)).vote("p1", [1])).resolves.toBe(answer);
    expect(client.vote).toHaveBeenCalledWith("p1", [1], 1000, undefined);
    expect(client.issueVoter).not.toHaveBeenCalled();
    expect(store.offers).toEqual([["p1", { tally: tally(4, [1, 3]) }]]);
  });

  it("a withdrawal offers the answer's tally and returns the answer", async () => {
    const answer = { poll: "p1", withdrawn: true, superseded: false, choice: null, choices: [], node: "n2", tally: tally(5, [1, 2]) };
    const client = fakeApi({ withdraw: () => Promise.resolve(answer) });
    const store = fakeStore();
    await expect(createPollActions(client, store, fakeVoter(), clockOf(1000, 2000, 3000)).withdraw("p1")).resolves.toBe(answer);
    expect(client.withdraw).toHaveBeenCalledWith("p1", 1000);
    expect(store.offers).toEqual([["p1", { tally: tally(5, [1, 2]) }]]);
  });

  it("closing offers the answer's tally and its status", async () => {
    const answer = view("closed", tally(6, [2, 2]));
    const client = fakeApi({ close: () => Promise.resolve(answer) });
    const store = fakeStore();
    await expect(createPollActions(client, store, fakeVoter(), clockOf(1000, 2000, 3000)).close("p1", "owner-token")).resolves.toBe(answer);
    expect(client.close).toHaveBeenCalledWith("p1", "owner-token");
    expect(store.offers).toEqual([["p1", { tally: tally(6, [2, 2]), status: "closed" }]]);
  });

  it("resetting offers the emptied tally at its higher version", async () => {
    const answer = view("open", tally(9, [0, 0]));
    const client = fakeApi({ reset: () => Promise.resolve(answer) });
    const store = fakeStore();
    await expect(createPollActions(client, store, fakeVoter(), clockOf(1000)).reset("p1", "owner-token")).resolves.toBe(answer);
    expect(client.reset).toHaveBeenCalledWith("p1", "owner-token");
    expect(store.offers).toEqual([["p1", { tally: tally(9, [0, 0]) }]]);
  });

  it("reopening offers the tally with its open status", async () => {
    const answer = view("open", tally(12, [2, 1]));
    const client = fakeApi({ reopen: () => Promise.resolve(answer) });
    const store = fakeStore();
    await createPollActions(client, store, fakeVoter(), clockOf(1000)).reopen("p1", "owner-token");
    expect(client.reopen).toHaveBeenCalledWith("p1", "owner-token");
    expect(store.offers).toEqual([["p1", { tally: tally(12, [2, 1]), status: "open" }]]);
  });

  it("pausing offers the tally with its paused status", async () => {
    const answer = view("paused", tally(10, [1, 0]));
    const client = fakeApi({ pause: () => Promise.resolve(answer) });
    const store = fakeStore();
    await createPollActions(client, store, fakeVoter(), clockOf(1000)).pause("p1", true, "owner-token");
    expect(client.pause).toHaveBeenCalledWith("p1", true, "owner-token");
    expect(store.offers).toEqual([["p1", { tally: tally(10, [1, 0]), status: "paused" }]]);
  });

  it("revealing the results offers the tally with its counts and the new visibility", async () => {
    const answer = view("open", tally(11, [2, 1]));
    const client = fakeApi({ setResults: () => Promise.resolve(answer) });
    const store = fakeStore();
    await createPollActions(client, store, fakeVoter(), clockOf(1000)).setResults("p1", "live", "owner-token");
    expect(client.setResults).toHaveBeenCalledWith("p1", "live", "owner-token");
    expect(store.offers).toEqual([["p1", { tally: tally(11, [2, 1]), status: "open", results: "live" }]]);
  });

  describe("a vote or withdrawal refused because the poll closed", () => {
    const closed = view("closed", tally(7, [3, 2]));

    it.each([
      ["vote", (actions: ReturnType<typeof createPollActions>) => actions.vote("p1", [0])],
      ["withdrawal", (actions: ReturnType<typeof createPollActions>) => actions.withdraw("p1")],
    ])("passes the refusal on and offers the re-fetched poll's tally and status (%s)", async (_, act) => {
      const error = refusal("poll_closed");
      const client = fakeApi({
        vote: () => Promise.reject(error),
        withdraw: () => Promise.reject(error),
        getPoll: () => Promise.resolve(closed),
      });
      const store = fakeStore();
      await expect(act(createPollActions(client, store, fakeVoter(), clockOf(1000, 2000, 3000)))).rejects.toBe(error);
      await settle();
      expect(client.getPoll).toHaveBeenCalledWith("p1");
      expect(store.offers).toEqual([["p1", { tally: tally(7, [3, 2]), status: "closed" }]]);
    });

    it("passes the refusal on without waiting for the re-fetch", async () => {
      let answer: (view: PollView) => void = () => {};
      const client = fakeApi({
        vote: () => Promise.reject(refusal("poll_closed")),
        getPoll: () => new Promise<PollView>((resolve) => (answer = resolve)),
      });
      const store = fakeStore();
      await expect(createPollActions(client, store, fakeVoter(), clockOf(1000, 2000, 3000)).vote("p1", [0])).rejects.toBeInstanceOf(ApiError);
      expect(store.offers).toEqual([]);
      answer(closed);
      await settle();
      expect(store.offers).toEqual([["p1", { tally: tally(7, [3, 2]), status: "closed" }]]);
    });

    it("offers nothing when the re-fetch fails too", async () => {
      const client = fakeApi({
        vote: () => Promise.reject(refusal("poll_closed")),
        getPoll: () => Promise.reject(new ApiError(0, "network", "offline")),
      });
      const store = fakeStore();
      await expect(createPollActions(client, store, fakeVoter(), clockOf(1000, 2000, 3000)).vote("p1", [0])).rejects.toBeInstanceOf(ApiError);
      await settle();
      expect(client.getPoll).toHaveBeenCalledOnce();
      expect(store.offers).toEqual([]);
    });
  });

  it.each([
    ["vote", refusal("rate_limited")],
    ["vote", refusal("option_out_of_range")],
    ["vote", new ApiError(0, "network", "offline")],
    ["vote", new Error("boom")],
    ["withdraw", refusal("rate_limited")],
    ["withdraw", new ApiError(0, "network", "offline")],
  ] as const)("a %s refused for another reason (%s) offers nothing and fetches nothing", async (action, error) => {
    const client = fakeApi({ vote: () => Promise.reject(error), withdraw: () => Promise.reject(error) });
    const store = fakeStore();
    const actions = createPollActions(client, store, fakeVoter(), clockOf(1000, 2000, 3000));
    await expect(action === "vote" ? actions.vote("p1", [0]) : actions.withdraw("p1")).rejects.toBe(error);
    await settle();
    expect(client.getPoll).not.toHaveBeenCalled();
    expect(store.offers).toEqual([]);
  });

  it.each([refusal("poll_closed"), new ApiError(403, "invalid_owner_token", "not the owner")])(
    "a refused close offers nothing and fetches nothing (%s)",
    async (error) => {
      const client = fakeApi({ close: () => Promise.reject(error) });
      const store = fakeStore();
      await expect(createPollActions(client, store, fakeVoter(), clockOf(1000, 2000, 3000)).close("p1", "wrong")).rejects.toBe(error);
      await settle();
      expect(client.getPoll).not.toHaveBeenCalled();
      expect(store.offers).toEqual([]);
    },
  );

  describe("the voter and the seq", () => {
    const answer = {
      vote: { poll: "p1", option: 0, options: [0], seq: 5, superseded: false, choice: 0, choices: [0], version: 1, node: "n1" },
      tally: tally(1, [1, 0]),
    };

    it("a browser without a voter gets one before its first vote", async () => {
      const calls: string[] = [];
      const client = fakeApi({
        issueVoter: () => (calls.push("issue"), Promise.resolve({ voter_token: "t" })),
        vote: () => (calls.push("vote"), Promise.resolve(answer)),
      });
      const voter = fakeVoter(false);
      await createPollActions(client, fakeStore(), voter, clockOf(5)).vote("p1", [0]);
      expect(calls).toEqual(["issue", "vote"]);
      expect(voter.has).toBe(true);
    });

    it.each(["voter_required", "invalid_voter_token"] as const)(
      "a vote refused with %s gets a new voter and is sent once more with the same seq",
      async (code) => {
        const refused = new ApiError(401, code, "who are you?");
        const vote = vi.fn().mockRejectedValueOnce(refused).mockResolvedValueOnce(answer);
        const client = fakeApi({ vote });
        await createPollActions(client, fakeStore(), fakeVoter(), clockOf(7)).vote("p1", [0]);
        expect(client.issueVoter).toHaveBeenCalledOnce();
        expect(vote.mock.calls).toEqual([
          ["p1", [0], 7, undefined],
          ["p1", [0], 7, undefined],
        ]);
      },
    );

    it("a second refusal is passed on, not retried again", async () => {
      const refused = new ApiError(401, "voter_required", "who are you?");
      const client = fakeApi({ vote: () => Promise.reject(refused) });
      const actions = createPollActions(client, fakeStore(), fakeVoter(), clockOf(7));
      await expect(actions.vote("p1", [0])).rejects.toBe(refused);
      expect(client.vote).toHaveBeenCalledTimes(2);
    });

    it("an invite code from the link goes with the vote", async () => {
      const client = fakeApi({ vote: () => Promise.resolve(answer) });
      await createPollActions(client, fakeStore(), fakeVoter(), clockOf(9)).vote("p1", [0], "abc234defg");
      expect(client.vote).toHaveBeenCalledWith("p1", [0], 9, "abc234defg");
    });

    it("seqs keep rising when the clock stands still or goes back", async () => {
      const client = fakeApi({ vote: () => Promise.resolve(answer) });
      const actions = createPollActions(client, fakeStore(), fakeVoter(), clockOf(50, 50, 20, 60));
      for (const option of [0, 1, 0, 1]) await actions.vote("p1", [option]);
      expect(vi.mocked(client.vote).mock.calls.map((call) => call[2])).toEqual([50, 51, 52, 60]);
    });
  });
});

describe("a server that takes votes through its ingest stream", () => {
  it("answers 202 with a receipt: nothing is offered to the live state, the receipt is passed on", async () => {
    const receipt = { stream_id: "1-0", poll: "p1", option: 1, options: [1], seq: 5, node: "node-2" };
    const client = fakeApi({
      vote: () => Promise.resolve(receipt),
      withdraw: () => Promise.resolve({ ...receipt, option: null, options: [], seq: 6 }),
    });
    const store = fakeStore();
    const actions = createPollActions(client, store, fakeVoter(), clockOf(5, 6));
    const voted = await actions.vote("p1", [1]);
    expect(isAccepted(voted)).toBe(true);
    expect(voted).toEqual(receipt);
    const withdrawn = await actions.withdraw("p1");
    expect(isAccepted(withdrawn)).toBe(true);
    expect(store.offers).toEqual([]);
  });

  it("tells a committed answer from an accepted one", () => {
    const committed = {
      vote: { poll: "p1", option: 0, options: [0], seq: 1, superseded: false, choice: 0, choices: [0], version: 3, node: "n" },
      tally: tally(3, [1, 0]),
    };
    expect(isAccepted(committed)).toBe(false);
  });
});
