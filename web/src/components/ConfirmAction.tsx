import { useState } from "react";
import { describeError } from "../api/errors";
import { showToast } from "../lib/toasts";

type Props = {
  /** The button that asks: "Close poll…". */
  ask: string;
  /** The question, beside the two buttons. */
  question: string;
  /** The button that does it, and the one that does not. */
  confirm: string;
  keep: string;
  /** What it does; its refusal is shown as a toast. */
  run: () => Promise<void>;
  /** Said once it is done. */
  done: string;
};

/** An owner's action that cannot be undone: one press asks, a second one does it. */
export function ConfirmAction({ ask, question, confirm, keep, run, done }: Props) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const go = async () => {
    setBusy(true);
    try {
      await run();
      showToast("info", done);
    } catch (error) {
      showToast("error", describeError(error));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  if (!confirming) {
    return (
      <button type="button" className="button ghost danger" onClick={() => setConfirming(true)}>
        {ask}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span className="muted">{question}</span>
      <button type="button" className="button danger" onClick={go} disabled={busy} autoFocus>
        {confirm}
      </button>
      <button type="button" className="button ghost" onClick={() => setConfirming(false)}>
        {keep}
      </button>
    </span>
  );
}
