import type { NodeInfo } from "../proto";
import { nodeStyle } from "../lib/nodeColor";
import "./Topology.css";

/**
 * The deployment as a picture: nginx, the nodes (and ingest workers), Redis (for a
 * cluster), the primary and its replicas. A node whose votes moved since the last sample has its
 * paths lit and flowing: the votes go through the node that handled them.
 */
export function Topology({ nodes, busy }: { nodes: NodeInfo[]; busy: Set<string> }) {
  const width = Math.max(520, nodes.length * 130 + 40);
  const column = (i: number) => 20 + (i + 0.5) * ((width - 40) / Math.max(nodes.length, 1));
  const replicas = Math.max(0, ...nodes.map((n) => n.replica_lag_ms.length));
  // One process alone fans out in memory: Redis is drawn for a cluster only.
  const bus = nodes.length > 1 ? ["redis"] : [];
  const stores = [...bus, "primary", ...Array.from({ length: replicas }, (_, i) => `replica ${i + 1}`)];
  const primary = bus.length;
  const storeX = (i: number) => 20 + (i + 0.5) * ((width - 40) / stores.length);
  return (
    <figure className="glass topology" data-testid="topology">
      <figcaption className="chart-title">Topology</figcaption>
      <svg viewBox={`0 0 ${width} 230`} role="img" aria-label={`nginx in front of ${nodes.length} processes, Redis, a primary and ${replicas} replicas`}>
        {nodes.map((node, i) => {
          const lit = busy.has(node.id) ? "edge lit" : "edge";
          return (
            <g key={node.id} style={nodeStyle(node.id)} data-node={node.id} data-busy={busy.has(node.id)}>
              {node.role === "node" && <path className={lit} d={`M${width / 2} 44 L${column(i)} 96`} />}
              {stores.slice(0, primary + 1).map((store, s) => (
                <path key={store} className={lit} d={`M${column(i)} 124 L${storeX(s)} 176`} />
              ))}
              <rect className="box node-box" x={column(i) - 55} y={96} width={110} height={28} rx={8} />
              <text x={column(i)} y={115}>{node.id}</text>
            </g>
          );
        })}
        <rect className="box" x={width / 2 - 55} y={16} width={110} height={28} rx={8} />
        <text x={width / 2} y={35}>nginx</text>
        {stores.map((store, i) => (
          <g key={store}>
            {i > primary && <path className="edge replication" d={`M${storeX(primary)} 190 L${storeX(i)} 190`} />}
            <rect className="box" x={storeX(i) - 50} y={176} width={100} height={28} rx={8} />
            <text x={storeX(i)} y={195}>{store}</text>
          </g>
        ))}
      </svg>
    </figure>
  );
}
