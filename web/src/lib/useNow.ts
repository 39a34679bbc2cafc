import { useEffect, useState } from "react";

/** The time, refreshed every `everyMs`, for "3 s ago" and "closes in 5 min". */
export function useNow(everyMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
