import { useEffect, useState } from "react";
import { LineChart } from "../components/LineChart";
import { Topology } from "../components/Topology";
import { live, useConnection } from "../live";
import { formatCount, fromNow } from "../lib/format";
import { nodeStyle } from "../lib/nodeColor";
import { type History, type Point, advance, busyNodes, emptyHistory, latest } from "../lib/telemetry";
import { useNow } from "../lib/useNow";
import { useTitle } from "../lib/useTitle";
import type { ClusterView } from "../proto";
import "./ClusterPage.css";

/**
 * The control room: every live node and worker, from the WebSocket's telemetry feed
 * (a sample every two seconds, through whichever node this page is connected to), as
 * charts over the last two minutes, a picture of the topology and a card per node.
 */
export function ClusterPage() {
  useTitle("Cluster");
  const [view, setView] = useState<ClusterView | null>(null);
  const [history, setHistory] = useState<History>(emptyHistory);
  // Samples received, for the page (and its tests) to tell a new one.
  const [samples, setSamples] = useState(0);
  const connection = useConnection();
  const now = useNow(1_000);

  useEffect(
    () =>
      live.watchCluster((next) => {
        setView(next);
        setHistory((before) => advance(before, next.nodes, Date.now()));
        setSamples((n) => n + 1);
      }),
    [],
  );

  const mine = connection.phase === "live" ? connection.node : null;
  const nodes = view?.nodes ?? [];
  const sockets = nodes.reduce((sum, n) => sum + n.sockets, 0);
  // The nodes' votes: a worker's are the same votes again, committed.
  const handled = nodes.filter((n) => n.role === "node").reduce((sum, n) => sum + n.votes_handled, 0);
  const points = latest(history);
  const busy = busyNodes(history);
  const line = (id: string, pick: (point: Point) => number | null) => ({
    id,
    label: id,
    points: (history.series.get(id) ?? []).map(pick),
  });
  const replicas = Math.max(0, ...nodes.map((n) => n.replica_lag_ms.length));

  return (
    <div className="cluster" data-samples={samples}>
      <header className="page-head">
        <h1 tabIndex={-1}>Cluster</h1>
        <p className="muted">
          Every live node and worker, as node <strong>{view?.node ?? "…"}</strong> sees them: a sample every two seconds
          over this page's WebSocket.
        </p>
      </header>
      {!view && <p className="muted" role="status">Waiting for the first sample…</p>}
      <dl className="stats">
        <Stat label="Nodes" value={formatCount(nodes.length)} />
        <Stat label="Open sockets" value={formatCount(sockets)} />
        <Stat label="Votes handled" value={formatCount(handled)} />
      </dl>
      {view && <Topology nodes={nodes} busy={busy} />}
      {view && (
        <div className="charts">
          <LineChart title="Votes per second" unit="votes/s" testId="chart-votes" lines={nodes.map((n) => line(n.id, (p) => p.votesPerSec))} />
          <LineChart
            title="Commit latency p50 / p99"
            unit="ms"
            testId="chart-commit"
            lines={nodes.flatMap((n) => [
              { ...line(n.id, (p) => p.commitP50), label: `${n.id} p50`, dashed: true },
              { ...line(n.id, (p) => p.commitP99), label: `${n.id} p99` },
            ])}
          />
          <LineChart title="Fan-out frames per second" unit="frames/s" testId="chart-frames" lines={nodes.filter((n) => n.role === "node").map((n) => line(n.id, (p) => p.framesPerSec))} />
          {replicas > 0 && (
            <LineChart
              title="Replica lag"
              unit="ms"
              testId="chart-lag"
              lines={Array.from({ length: replicas }, (_, r) => ({
                ...line(nodes[0]?.id ?? "", (p) => p.replicaLag[r] ?? null),
                id: `replica-${r + 1}`,
                label: `replica ${r + 1}`,
              }))}
            />
          )}
        </div>
      )}
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
              <div><dt>Votes per second</dt><dd>{formatRate(points.get(node.id)?.votesPerSec)}</dd></div>
              <div><dt>Redis bus</dt><dd>{node.bus_connected ? "connected" : "down"}</dd></div>
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
              {node.address && <div><dt>Address</dt><dd className="mono">{node.address}</dd></div>}
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

function formatRate(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "…" : formatCount(Math.round(rate));
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="glass stat">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}
