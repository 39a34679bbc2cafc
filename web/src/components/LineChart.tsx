import { HISTORY } from "../lib/telemetry";
import { nodeStyle } from "../lib/nodeColor";
import { formatCount } from "../lib/format";
import "./LineChart.css";

export type Line = { id: string; label: string; points: (number | null)[]; dashed?: boolean };

const WIDTH = 300;
const HEIGHT = 90;

/** The SVG path of `points` (a gap where a point is missing), scaled to `max`. */
export function linePath(points: (number | null)[], max: number): string {
  const step = WIDTH / (HISTORY - 1);
  const offset = HISTORY - points.length;
  let path = "";
  let drawing = false;
  points.forEach((value, i) => {
    if (value === null) {
      drawing = false;
      return;
    }
    const x = ((offset + i) * step).toFixed(1);
    const y = (HEIGHT - (Math.min(value, max) / max) * HEIGHT).toFixed(1);
    path += `${drawing ? "L" : "M"}${x} ${y} `;
    drawing = true;
  });
  return path.trim();
}

/** One chart of the control room: a line per node over the last two minutes. */
export function LineChart({ title, unit, lines, testId }: { title: string; unit: string; lines: Line[]; testId: string }) {
  const values = lines.flatMap((line) => line.points.filter((v): v is number => v !== null));
  const max = Math.max(1, ...values);
  return (
    <figure className="glass chart" data-testid={testId}>
      <figcaption>
        <span className="chart-title">{title}</span>
        <span className="muted chart-scale">up to {formatCount(Math.round(max))} {unit}</span>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" aria-hidden="true">
        {lines.map((line) => (
          <path
            key={line.id}
            className={line.dashed ? "chart-line dashed" : "chart-line"}
            style={nodeStyle(line.id)}
            d={linePath(line.points, max)}
            data-line={line.label}
          />
        ))}
      </svg>
      <ul className="chart-legend">
        {lines.map((line) => {
          const now = [...line.points].reverse().find((v) => v !== null);
          const peak = Math.max(...line.points.filter((v): v is number => v !== null));
          return (
            <li key={line.label} style={nodeStyle(line.id)} data-line={line.label} data-peak={Number.isFinite(peak) ? peak : ""}>
              <span className="node-swatch" aria-hidden="true" />
              {line.label}: {now === undefined ? "…" : `${formatCount(Math.round(now))} ${unit}`}
            </li>
          );
        })}
      </ul>
    </figure>
  );
}
