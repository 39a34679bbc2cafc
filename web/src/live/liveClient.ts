// The one WebSocket of the page: every watched poll shares it. It reconnects by
// itself (jittered backoff), resubscribes with `since` = the version shown, and feeds
// every tally, from the socket or from REST answers, through `mergeReport`.

import type { ClientMessage, ClusterView, ErrorCode, ServerMessage } from "../proto";
import { reconnectDelay } from "./backoff";
import { type LivePoll, type PollReport, mergeReport, reportOf } from "./pollState";

export type ConnectionState =
  | { phase: "connecting"; lastNode: string | null }
  | { phase: "live"; node: string }
  | { phase: "waiting"; retryAt: number; lastNode: string | null };

/** The part of the browser's WebSocket this client uses (a fake in tests). */
export interface SocketLike {
  send(data: string): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: (() => void) | null;
}

export type LiveOptions = {
  url: string;
  createSocket?: (url: string) => SocketLike;
  random?: () => number;
  /** A refusal the server sent over the socket. */
  onServerError?: (code: ErrorCode, message: string) => void;
  /** The owner token this browser holds for a poll, sent with its `subscribe`. */
  ownerToken?: (poll: string) => string | null;
};

/** A vote of this browser's voter, accepted (202) and then refused when it was counted. */
export type Rejection = Extract<ServerMessage, { type: "rejected" }>;

export class LiveClient {
  private readonly polls = new Map<string, LivePoll>();
  private readonly watchers = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  /** The latest refused vote per poll. */
  private readonly rejections = new Map<string, Rejection>();
  /** Who reads the cluster's telemetry (the control room). */
  private readonly clusterWatchers = new Set<(view: ClusterView) => void>();
  private connection: ConnectionState = { phase: "connecting", lastNode: null };
  private socket: SocketLike | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;

  constructor(private readonly options: LiveOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }

  /** Watches a poll until the returned function is called. Watches are counted. */
  watch(poll: string): () => void {
    const count = this.watchers.get(poll) ?? 0;
    this.watchers.set(poll, count + 1);
    if (count === 0) this.subscribe(poll);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.watchers.get(poll) ?? 1) - 1;
      if (left > 0) {
        this.watchers.set(poll, left);
        return;
      }
      this.watchers.delete(poll);
      if (this.connection.phase === "live") this.send({ type: "unsubscribe", poll });
    };
  }

  /** Hands `listener` the cluster's telemetry (every two seconds) until the returned
   * function is called. */
  watchCluster(listener: (view: ClusterView) => void): () => void {
    this.clusterWatchers.add(listener);
    if (this.clusterWatchers.size === 1 && this.connection.phase === "live") this.send({ type: "watch_cluster" });
    return () => {
      if (!this.clusterWatchers.delete(listener) || this.clusterWatchers.size > 0) return;
      if (this.connection.phase === "live") this.send({ type: "unwatch_cluster" });
    };
  }

  /** Folds in a tally learned elsewhere (a REST answer); the newest still wins. */
  offer(poll: string, report: PollReport): void {
    const current = this.polls.get(poll);
    const next = mergeReport(current, report);
    if (next !== current) {
      this.polls.set(poll, next);
      this.notify();
    }
  }

  /** Skips the wait and reconnects now (the browser came back online, or a person asked). */
  reconnectNow(): void {
    if (this.stopped || this.connection.phase !== "waiting") return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  getPoll(poll: string): LivePoll | undefined {
    return this.polls.get(poll);
  }

  getConnection(): ConnectionState {
    return this.connection;
  }

  /** The latest vote of this voter on `poll` that was accepted and then not counted. */
  getRejection(poll: string): Rejection | undefined {
    return this.rejections.get(poll);
  }

  /** For `useSyncExternalStore`: called after any poll or the connection changed. */
  subscribeChanges(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private connect(): void {
    this.setConnection({ phase: "connecting", lastNode: lastNodeOf(this.connection) });
    const create = this.options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    const socket = create(this.options.url);
    this.socket = socket;
    socket.onmessage = (event) => {
      if (this.socket === socket && typeof event.data === "string") this.receive(event.data);
    };
    // A failed or dropped socket always ends in `close`; reconnecting there alone
    // keeps one retry per loss.
    socket.onclose = () => {
      if (this.socket === socket) this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    this.socket = null;
    if (this.stopped) return;
    const delay = reconnectDelay(this.attempt, this.options.random);
    this.attempt += 1;
    this.setConnection({
      phase: "waiting",
      retryAt: Date.now() + delay,
      lastNode: lastNodeOf(this.connection),
    });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private receive(data: string): void {
    let message: ServerMessage;
    try {
      message = JSON.parse(data) as ServerMessage;
    } catch {
      return; // Not ours to show: the server only sends JSON.
    }
    if (message.type === "hello") {
      this.attempt = 0;
      this.setConnection({ phase: "live", node: message.node });
      for (const poll of this.watchers.keys()) this.subscribe(poll);
      if (this.clusterWatchers.size > 0) this.send({ type: "watch_cluster" });
      return;
    }
    if (message.type === "error") {
      this.options.onServerError?.(message.code, message.message);
      return;
    }
    if (message.type === "cluster") {
      for (const listener of this.clusterWatchers) listener(message.view);
      return;
    }
    if (message.type === "rejected") {
      this.rejections.set(message.poll, message);
      this.notify();
      return;
    }
    const about = reportOf(message);
    if (about) this.offer(about.poll, about.report);
  }

  private subscribe(poll: string): void {
    if (this.connection.phase !== "live") return; // `hello` subscribes every watched poll.
    const since = this.polls.get(poll)?.tally.version;
    const message: ClientMessage = { type: "subscribe", poll };
    if (since !== undefined) message.since = since;
    // The owner sees the counts whatever the poll's results say.
    const ownerToken = this.options.ownerToken?.(poll);
    if (ownerToken) message.owner_token = ownerToken;
    this.send(message);
  }

  private send(message: ClientMessage): void {
    this.socket?.send(JSON.stringify(message));
  }

  private setConnection(state: ConnectionState): void {
    this.connection = state;
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

function lastNodeOf(state: ConnectionState): string | null {
  return state.phase === "live" ? state.node : state.lastNode;
}
