// Numbers and times as people read them.

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });
const count = new Intl.NumberFormat();

/** A whole percentage of `total`; 0 when nobody voted. */
export function percent(part: number, total: number): number {
  return total > 0 ? Math.round((part / total) * 100) : 0;
}

export function votes(n: number): string {
  return `${count.format(n)} ${n === 1 ? "vote" : "votes"}`;
}

/** "1 voter", "12 voters": a multiple-choice poll's total counts people, not options. */
export function voters(n: number): string {
  return `${count.format(n)} ${n === 1 ? "voter" : "voters"}`;
}

export const formatCount = (n: number) => count.format(n);

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1_000],
];

/** "in 5 min", "3 sec ago", "now": the distance from `now` to an RFC 3339 time. */
export function fromNow(iso: string, now: number): string {
  const diff = Date.parse(iso) - now;
  if (Number.isNaN(diff)) return "";
  if (Math.abs(diff) < 1_000) return "now";
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms || unit === "second") {
      return relative.format(Math.trunc(diff / ms), unit);
    }
  }
  return "";
}
