// When to try the WebSocket again after it dropped.

export const RECONNECT_BASE_MS = 500;
export const RECONNECT_MAX_MS = 15_000;

/**
 * The wait before reconnect attempt `attempt` (0 for the first): exponential with a
 * ceiling, and "equal jitter" — a random point in the upper half of the window. The
 * jitter spreads out the thousands of browsers a restarting node drops at once; the
 * lower bound keeps any one of them from retrying in a tight loop.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const window = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** Math.max(0, attempt));
  return Math.round(window / 2 + (random() * window) / 2);
}
