import { live, useConnection } from "../live";
import { nodeStyle } from "../lib/nodeColor";
import { useNow } from "../lib/useNow";
import "./ConnectionBadge.css";

const PHASE_WORDS = { live: "Live", connecting: "Connecting…", waiting: "Offline" } as const;

/** Whether updates are live, and which node this browser is connected to. */
export function ConnectionBadge() {
  const connection = useConnection();
  const now = useNow(1_000);
  const node = connection.phase === "live" ? connection.node : connection.lastNode;
  return (
    <div className={`connection connection-${connection.phase}`} data-testid="connection" data-phase={connection.phase}>
      <span className="connection-dot" aria-hidden="true" />
      {/* Only the phase is announced; the countdown would be read out every second. */}
      <span role="status" className="connection-words">{PHASE_WORDS[connection.phase]}</span>
      {connection.phase === "waiting" && (
        <span className="connection-retry" aria-hidden="true">
          retry in {Math.max(1, Math.ceil((connection.retryAt - now) / 1000))} s
        </span>
      )}
      {node && (
        <span className="node-chip" style={nodeStyle(node)} title="The votewire node this browser is connected to">
          <span className="node-swatch" aria-hidden="true" />
          <span className="visually-hidden">connected to node </span>
          <span data-testid="connected-node">{node}</span>
        </span>
      )}
      {connection.phase === "waiting" && (
        <button type="button" className="link-button" onClick={() => live.reconnectNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}
