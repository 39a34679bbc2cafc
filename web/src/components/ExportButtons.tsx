import { useState } from "react";
import { type ExportFormat, type ExportWhat, api } from "../api/client";
import { describeError } from "../api/errors";
import { showToast } from "../lib/toasts";

const CHOICES: [ExportWhat, ExportFormat, string][] = [
  ["results", "csv", "Results (CSV)"],
  ["votes", "csv", "Votes (CSV)"],
  ["votes", "json", "Votes (JSON)"],
];

/**
 * The owner's downloads. The owner token goes in a header, never in a URL (where logs
 * would keep it), so the file is fetched and handed to the browser as a download.
 */
export function ExportButtons({ id, ownerToken }: { id: string; ownerToken: string }) {
  const [busy, setBusy] = useState(false);
  const save = async (what: ExportWhat, format: ExportFormat) => {
    setBusy(true);
    try {
      const file = await api.export(id, what, format, ownerToken);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(file);
      link.download = `poll-${id}-${what}.${format}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 0);
    } catch (error) {
      showToast("error", describeError(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="export-buttons" role="group" aria-label="Download">
      {CHOICES.map(([what, format, label]) => (
        <button key={`${what}.${format}`} type="button" className="button ghost" disabled={busy} onClick={() => void save(what, format)}>
          {label}
        </button>
      ))}
    </div>
  );
}
