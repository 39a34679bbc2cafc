import { useState } from "react";
import { describeError } from "../api/errors";
import { pollActions } from "../live";
import { RESULTS_CHOICES } from "../lib/resultsVisibility";
import { showToast } from "../lib/toasts";
import type { ResultsVisibility } from "../proto";

type Props = { id: string; ownerToken: string; results: ResultsVisibility };

/** The owner's choice of who sees the counts, open or closed; every watcher follows. */
export function ResultsControl({ id, ownerToken, results }: Props) {
  const [busy, setBusy] = useState(false);
  const change = async (next: ResultsVisibility) => {
    setBusy(true);
    try {
      await pollActions.setResults(id, next, ownerToken);
    } catch (error) {
      showToast("error", describeError(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <label className="results-control">
      <span className="muted">Results shown to</span>
      <select
        className="input"
        value={results}
        disabled={busy}
        onChange={(e) => void change(e.target.value as ResultsVisibility)}
      >
        {RESULTS_CHOICES.map(([value, label]) => (
          <option key={value} value={value}>{label}</option>
        ))}
      </select>
    </label>
  );
}

/** The presenter's one press that shows the results to everyone. */
export function RevealButton({ id, ownerToken }: { id: string; ownerToken: string }) {
  const [busy, setBusy] = useState(false);
  const reveal = async () => {
    setBusy(true);
    try {
      await pollActions.setResults(id, "live", ownerToken);
    } catch (error) {
      showToast("error", describeError(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" className="button ghost" onClick={reveal} disabled={busy}>
      Reveal results
    </button>
  );
}
