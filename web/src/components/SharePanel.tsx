import { useRef } from "react";
import { QrCode } from "./QrCode";
import { pollPath } from "../lib/router";
import { showToast } from "../lib/toasts";
import "./SharePanel.css";

/** A join code as people read it out: two groups of three. */
export const spacedCode = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`;

/** The poll's link, to copy or to scan, and its join code, to type. */
export function SharePanel({ id, joinCode }: { id: string; joinCode?: string }) {
  const url = `${location.origin}${pollPath(id)}`;
  const field = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      showToast("info", "Link copied.");
    } catch {
      // No clipboard (plain http, or refused): select it so the person can copy it.
      field.current?.select();
      showToast("info", "Press Ctrl+C (⌘C) to copy the selected link.");
    }
  };
  return (
    <section className="glass side-card share" aria-labelledby="share-title">
      <h2 id="share-title">Invite voters</h2>
      <QrCode text={url} className="share-qr" />
      <label className="visually-hidden" htmlFor="share-link">Poll link</label>
      <div className="share-row">
        <input id="share-link" ref={field} className="input share-input" readOnly value={url} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="button" onClick={copy}>Copy</button>
      </div>
      {joinCode && (
        <p className="share-code">
          Or type the code <strong data-testid="join-code">{spacedCode(joinCode)}</strong> at {location.host}/j
        </p>
      )}
    </section>
  );
}
