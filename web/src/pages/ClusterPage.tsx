import { useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import { describeError } from "../api/errors";
import { useConnection } from "../live";
import { formatCount, fromNow } from "../lib/format";
import { nodeStyle } from "../lib/nodeColor";
import { type Reading, reading, votesPerSecond } from "../lib/throughput";
import { useNow } from "../lib/useNow";
import { useTitle } from "../lib/useTitle";
import type { ClusterView } from "../proto";
import "./ClusterPage.css";

const REFRESH_MS = 2_000;

/** The live nodes, refreshed every two seconds while the page is open. */
export function ClusterPage() {
  useTitle("Cluster");
  const [view, setView] = useState<ClusterView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [rates, setRates] = useState<Map<string, number>>(new Map());
  const last = useRef<Reading | null>(null);
  const connection = useConnection();
  const now = useNow(1_000);

  useEffect(() => {
    let current = true;
    let timer: ReturnType<typeof setTimeout>;
    const refresh = async () => {
      try {
        const next = await api.cluster();
        if (!current) return;
        const now = reading(next.nodes, Date.now());
        setRates(votesPerSecond(last.current, now));
        last.current = now;
        setView(next);
        setError(null);
      } catch (failure) {
        if (current) setError(describeError(failure));
      }
      if (current) timer = setTimeout(refresh, REFRESH_MS);
    };
    void refresh();
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, []);

  const mine = connection.phase === "live" ? connection.node : null;
  const nodes = view?.nodes ?? [];
  const sockets = nodes.reduce((sum, n) => sum + n.sockets, 0);
  // The nodes' votes: a worker's are the same votes again, committed.
  const handled = nodes.filter((n) => n.role === "node").reduce((sum, n) => sum + n.votes_handled, 0);

  return (
    <div className="cluster">
      <header className="page-head">
        <h1 tabIndex={-1}>Cluster</h1>
        <p className="muted">
          Every live node and worker, as node <strong>{view?.node ?? "…"}</strong> sees them. Refreshed every two
          seconds.
        </p>
      </header>
      {error && <p className="glass inline-error" role="alert">{error} Retrying…</p>}
      <dl className="stats">
        <Stat label="Nodes" value={formatCount(nodes.length)} />
        <Stat label="Open sockets" value={formatCount(sockets)} />
        <Stat label="Votes handled" value={formatCount(handled)} />
      </dl>
      <ul className="node-grid" data-testid="nodes">
        {nodes.map((node) => (
          <li key={node.id} className="glass node-card" style={nodeStyle(node.id)} data-node={node.id}>
            <h2 className="node-name">
              <span className="node-swatch" aria-hidden="true" />
              {node.id}
              {node.id === mine && <span className="tag">your connection</span>}
              {node.role === "worker" && <span className="tag">ingest worker</span>}
            </h2>
            <dl className="node-facts">
              {node.role === "node" && <div><dt>Sockets</dt><dd>{formatCount(node.sockets)}</dd></div>}
              <div>
                <dt>{node.role === "worker" ? "Votes committed" : "Votes handled"}</dt>
                <dd>{formatCount(node.votes_handled)}</dd>
              </div>
              <div><dt>Votes per second</dt><dd>{rates.has(node.id) ? formatCount(Math.round(rates.get(node.id) ?? 0)) : "…"}</dd></div>
              {node.ingest_backlog !== null && (
                <div><dt>Votes waiting</dt><dd>{formatCount(node.ingest_backlog)}</dd></div>
              )}
              {node.ingest_lag_ms !== null && (
                <div><dt>Commit lag</dt><dd>{formatCount(node.ingest_lag_ms)} ms</dd></div>
              )}
              {node.role === "node" && (
                <div><dt>Share of votes</dt><dd>{handled ? Math.round((node.votes_handled / handled) * 100) : 0}%</dd></div>
              )}
              <div><dt>Last seen</dt><dd>{fromNow(node.last_seen, now)}</dd></div>
              <div><dt>Version</dt><dd>{node.version}</dd></div>
              <div><dt>Address</dt><dd className="mono">{node.address}</dd></div>
              <div>
                <dt>Replica lag</dt>
                <dd>{node.replica_lag_ms.length ? node.replica_lag_ms.map((ms) => `${formatCount(ms)} ms`).join(", ") : "no replicas"}</dd>
              </div>
            </dl>
          </li>
        ))}
      </ul>
      {view && nodes.length === 0 && <p className="muted">No node has announced itself yet.</p>}
    </div>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="glass stat">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}
