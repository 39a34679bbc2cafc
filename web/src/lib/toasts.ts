// Messages for the person, shown by <Toaster/>: errors stay until read or for a while;
// nothing that goes wrong is only logged.

import { useSyncExternalStore } from "react";

export type Toast = { id: number; kind: "error" | "info"; text: string };

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function set(next: Toast[]): void {
  toasts = next;
  for (const listener of listeners) listener();
}

export function dismissToast(id: number): void {
  set(toasts.filter((t) => t.id !== id));
}

export function showToast(kind: Toast["kind"], text: string): void {
  const id = nextId++;
  // The same message twice in a row (a flapping connection) shows once.
  set([...toasts.filter((t) => t.text !== text), { id, kind, text }].slice(-4));
  setTimeout(() => dismissToast(id), kind === "error" ? 9_000 : 4_000);
}

export function useToasts(): Toast[] {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => toasts,
  );
}
