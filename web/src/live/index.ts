// The page's single live connection, the hooks that read it, and the poll actions that
// feed it their answers.

import { useEffect, useSyncExternalStore } from "react";
import { api } from "../api/client";
import { ApiError, describeError } from "../api/errors";
import { remembered } from "../lib/remembered";
import { showToast } from "../lib/toasts";
import { type ConnectionState, LiveClient, type Rejection } from "./liveClient";
import { createPollActions } from "./pollActions";
import type { LivePoll } from "./pollState";

const scheme = location.protocol === "https:" ? "wss" : "ws";

export const live = new LiveClient({
  url: `${scheme}://${location.host}/ws`,
  onServerError: (code, message) => {
    // A missing poll is already explained by the page that asked for it (REST says so too).
    if (code !== "poll_not_found") showToast("error", `Live updates: ${describeError(new ApiError(0, code, message))}`);
  },
  ownerToken: (poll) => remembered.ownerToken(poll),
});

/** Vote, withdraw and close, each offering its answer's tally (and status) to `live`. */
export const pollActions = createPollActions(api, live, remembered);

// A laptop waking up or a phone back in coverage should not wait out the backoff.
window.addEventListener("online", () => live.reconnectNow());

const onChange = (listener: () => void) => live.subscribeChanges(listener);

export function useConnection(): ConnectionState {
  return useSyncExternalStore(onChange, () => live.getConnection());
}

/** The live state of a poll, watched while the component is mounted. */
export function useLivePoll(poll: string): LivePoll | undefined {
  useEffect(() => live.watch(poll), [poll]);
  return useSyncExternalStore(onChange, () => live.getPoll(poll));
}

/** The latest vote of this browser's voter on `poll` that was accepted, then not counted. */
export function useRejection(poll: string): Rejection | undefined {
  return useSyncExternalStore(onChange, () => live.getRejection(poll));
}
