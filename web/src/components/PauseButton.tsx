import { useState } from "react";
import { describeError } from "../api/errors";
import { pollActions } from "../live";
import { showToast } from "../lib/toasts";

/** The owner's pause and resume: votes are refused while paused, then taken again. */
export function PauseButton({ id, ownerToken, paused }: { id: string; ownerToken: string; paused: boolean }) {
  const [busy, setBusy] = useState(false);
  const toggle = async () => {
    setBusy(true);
    try {
      await pollActions.pause(id, !paused, ownerToken);
    } catch (error) {
      showToast("error", describeError(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" className="button ghost" onClick={toggle} disabled={busy}>
      {paused ? "Resume voting" : "Pause voting"}
    </button>
  );
}
