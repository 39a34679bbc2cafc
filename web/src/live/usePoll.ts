import { useEffect, useState } from "react";
import { api } from "../api/client";
import { describeError } from "../api/errors";
import { remembered } from "../lib/remembered";
import type { Poll } from "../proto";
import { live, useLivePoll } from ".";

export type PollLoad = { poll: Poll | null; loadError: string | null };

/** A poll's definition (question, options) from REST, and its live tally and status. */
export function usePoll(id: string) {
  const [load, setLoad] = useState<PollLoad>({ poll: null, loadError: null });
  const state = useLivePoll(id);
  useEffect(() => {
    let current = true;
    setLoad({ poll: null, loadError: null });
    api
      .getPoll(id, remembered.ownerToken(id))
      .then((view) => {
        live.offer(id, { tally: view.tally, status: view.poll.status, results: view.poll.results });
        if (current) setLoad({ poll: view.poll, loadError: null });
      })
      .catch((error: unknown) => {
        if (current) setLoad({ poll: null, loadError: describeError(error) });
      });
    return () => {
      current = false;
    };
  }, [id]);
  return { ...load, state };
}
