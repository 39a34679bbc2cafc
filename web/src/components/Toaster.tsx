import { dismissToast, useToasts } from "../lib/toasts";
import "./Toaster.css";

export function Toaster() {
  const toasts = useToasts();
  return (
    <div className="toaster">
      {/* Two regions: errors interrupt (alert), the rest waits its turn (status). */}
      <div role="alert" className="toaster-stack">
        {toasts.filter((t) => t.kind === "error").map((t) => (
          <ToastItem key={t.id} id={t.id} kind={t.kind} text={t.text} />
        ))}
      </div>
      <div role="status" className="toaster-stack">
        {toasts.filter((t) => t.kind === "info").map((t) => (
          <ToastItem key={t.id} id={t.id} kind={t.kind} text={t.text} />
        ))}
      </div>
    </div>
  );
}

function ToastItem({ id, kind, text }: { id: number; kind: string; text: string }) {
  return (
    <div className={`toast glass toast-${kind}`} data-testid={`toast-${kind}`}>
      <span className="toast-icon" aria-hidden="true">{kind === "error" ? "!" : "✓"}</span>
      <p>{text}</p>
      <button type="button" className="icon-button" onClick={() => dismissToast(id)} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}
