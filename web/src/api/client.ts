// The REST API, typed with the generated contract. Same origin, so the voter cookie
// travels with every request.

import type {
  CreatePoll,
  CreatedPoll,
  InvitesMinted,
  PollList,
  PollView,
  ResultsVisibility,
  VoteAccepted,
  VoteResponse,
  VoterIssued,
  WithdrawResponse,
} from "../proto";
import { ApiError, errorFromResponse } from "./errors";

type Extra = { auth?: string; idempotencyKey?: string };

/** The answer to `init` at `path`, same origin; a network failure as an `ApiError`. */
async function reach(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, { ...init, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "network", "Could not reach votewire. Check your connection and try again.");
  }
}

async function request<T>(method: string, path: string, body?: unknown, extra: Extra = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (extra.auth) headers.authorization = extra.auth;
  if (extra.idempotencyKey) headers["idempotency-key"] = extra.idempotencyKey;
  const response = await reach(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw errorFromResponse(response.status, response.statusText, text);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(response.status, "unexpected_response", "The server sent an answer votewire cannot read.");
  }
}

/** A file the API streams (an export), as a Blob; refusals as for `request`. */
async function download(path: string, auth: string): Promise<Blob> {
  const response = await reach(path, { headers: { authorization: auth } });
  if (!response.ok) throw errorFromResponse(response.status, response.statusText, await response.text());
  return response.blob();
}

export type ExportWhat = "results" | "votes";
export type ExportFormat = "csv" | "json";

const poll = (id: string) => `/api/polls/${encodeURIComponent(id)}`;

export const api = {
  listPolls: (limit = 20) => request<PollList>("GET", `/api/polls?limit=${limit}`),
  /** Creates a poll; sent again with the same key (a retry), it answers the same poll. */
  createPoll: (body: CreatePoll, idempotencyKey: string) =>
    request<CreatedPoll>("POST", "/api/polls", body, { idempotencyKey }),
  /** The poll and its tally; with the owner token, the counts even while hidden. */
  getPoll: (id: string, ownerToken?: string | null) =>
    request<PollView>("GET", poll(id), undefined, ownerToken ? { auth: `Bearer ${ownerToken}` } : {}),
  /** The poll a join code names, however it was typed. */
  join: (code: string) => request<PollView>("GET", `/api/join/${encodeURIComponent(code)}`),
  /** Issues this browser a voter, in its HttpOnly cookie. */
  issueVoter: () => request<VoterIssued>("POST", "/api/voters"),
  /** Votes for one option, or for a set of them on a multiple-choice poll. */
  vote: (id: string, choice: readonly number[], seq: number, invite?: string) => {
    const chosen = choice.length === 1 ? { option: choice[0] } : { options: [...choice] };
    return request<VoteResponse | VoteAccepted>("POST", `${poll(id)}/votes`, invite ? { ...chosen, seq, invite } : { ...chosen, seq });
  },
  /** Mints single-use invite codes of an `invite` poll, as its owner. */
  mintInvites: (id: string, count: number, ownerToken: string) =>
    request<InvitesMinted>("POST", `${poll(id)}/invites`, { count }, { auth: `Bearer ${ownerToken}` }),
  withdraw: (id: string, seq: number) =>
    request<WithdrawResponse | VoteAccepted>("DELETE", `${poll(id)}/votes?seq=${seq}`),
  /** The poll's results or votes as a file, as its owner. */
  export: (id: string, what: ExportWhat, format: ExportFormat, ownerToken: string) =>
    download(`${poll(id)}/export?what=${what}&format=${format}`, `Bearer ${ownerToken}`),
  /** Pauses or resumes voting, as the poll's owner. */
  pause: (id: string, paused: boolean, ownerToken: string) =>
    request<PollView>("POST", `${poll(id)}/${paused ? "pause" : "resume"}`, undefined, { auth: `Bearer ${ownerToken}` }),
  /** Changes who sees the counts, as the poll's owner (`live` reveals them). */
  setResults: (id: string, results: ResultsVisibility, ownerToken: string) =>
    request<PollView>("POST", `${poll(id)}/results`, { results }, { auth: `Bearer ${ownerToken}` }),
  /** Takes every vote out of an open poll, as its owner. */
  reset: (id: string, ownerToken: string) =>
    request<PollView>("POST", `${poll(id)}/reset`, undefined, { auth: `Bearer ${ownerToken}` }),
  /** Opens a poll its owner closed again, before its closing time, as its owner. */
  reopen: (id: string, ownerToken: string) =>
    request<PollView>("POST", `${poll(id)}/reopen`, undefined, { auth: `Bearer ${ownerToken}` }),
  close: (id: string, ownerToken: string) =>
    request<PollView>("POST", `${poll(id)}/close`, undefined, { auth: `Bearer ${ownerToken}` }),
};
