// Client-side routes without a router library: a handful of pages, parsed from the path.
// The node answers every non-API path with index.html, so deep links work.

import { useSyncExternalStore } from "react";

export type Route =
  | { page: "home" }
  | { page: "poll"; id: string }
  | { page: "present"; id: string }
  | { page: "join"; code: string }
  | { page: "cluster" }
  | { page: "missing" };

const POLL_ID = "([A-Za-z0-9_-]{1,64})";
const POLL = new RegExp(`^/p/${POLL_ID}/?$`);
const PRESENT = new RegExp(`^/p/${POLL_ID}/present/?$`);
// What a person may type: letters, digits, spaces (as %20) and dashes; the server says
// whether it is a code.
const JOIN = /^\/j\/([A-Za-z0-9%-]{1,32})\/?$/;

export function parseRoute(pathname: string): Route {
  if (pathname === "/" || pathname === "") return { page: "home" };
  if (pathname === "/cluster" || pathname === "/cluster/") return { page: "cluster" };
  const present = PRESENT.exec(pathname);
  if (present) return { page: "present", id: present[1]! };
  const join = JOIN.exec(pathname);
  if (join) return { page: "join", code: decodeURIComponent(join[1]!) };
  const poll = POLL.exec(pathname);
  if (poll) return { page: "poll", id: poll[1]! };
  return { page: "missing" };
}

export const pollPath = (id: string) => `/p/${id}`;
export const presentPath = (id: string) => `/p/${id}/present`;
export const joinPath = (code: string) => `/j/${encodeURIComponent(code.trim())}`;

const NAVIGATED = "votewire:navigated";

export function navigate(path: string): void {
  if (path === location.pathname) return;
  history.pushState(null, "", path);
  window.dispatchEvent(new Event(NAVIGATED));
  window.scrollTo(0, 0);
}

/** Goes to `path` in place of the current entry (a redirect: Back skips it). */
export function redirect(path: string): void {
  history.replaceState(null, "", path);
  window.dispatchEvent(new Event(NAVIGATED));
}

function onChange(listener: () => void): () => void {
  window.addEventListener("popstate", listener);
  window.addEventListener(NAVIGATED, listener);
  return () => {
    window.removeEventListener("popstate", listener);
    window.removeEventListener(NAVIGATED, listener);
  };
}

/** The current path, re-rendering on navigation. */
export function usePathname(): string {
  return useSyncExternalStore(onChange, () => location.pathname);
}
