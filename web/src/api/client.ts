// The REST API, typed with the generated contract. Same origin, so the voter cookie
// travels with every request.

import type {
  ClusterView,
  CreatePoll,
  CreatedPoll,
  PollList,
  PollView,
  VoteResponse,
  WithdrawResponse,
} from "../proto";
import { ApiError, errorFromResponse } from "./errors";

async function request<T>(method: string, path: string, body?: unknown, auth?: string): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (auth) headers.authorization = auth;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "Could not reach votewire. Check your connection and try again.");
  }
  const text = await response.text();
  if (!response.ok) throw errorFromResponse(response.status, response.statusText, text);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(response.status, "unexpected_response", "The server sent an answer votewire cannot read.");
  }
}

const poll = (id: string) => `/api/polls/${encodeURIComponent(id)}`;

export const api = {
  listPolls: (limit = 20) => request<PollList>("GET", `/api/polls?limit=${limit}`),
  createPoll: (body: CreatePoll) => request<CreatedPoll>("POST", "/api/polls", body),
  getPoll: (id: string) => request<PollView>("GET", poll(id)),
  vote: (id: string, option: number) => request<VoteResponse>("POST", `${poll(id)}/votes`, { option }),
  withdraw: (id: string) => request<WithdrawResponse>("DELETE", `${poll(id)}/votes`),
  close: (id: string, ownerToken: string) =>
    request<PollView>("POST", `${poll(id)}/close`, undefined, `Bearer ${ownerToken}`),
  cluster: () => request<ClusterView>("GET", "/api/cluster"),
};
