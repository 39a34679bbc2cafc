import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ClientMessage, ServerMessage, Tally } from "../proto";
import { LiveClient, type SocketLike } from "./liveClient";

class FakeSocket implements SocketLike {
  sent: ClientMessage[] = [];
  closed = false;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data) as ClientMessage);
  }
  close() {
    this.closed = true;
  }
  receive(message: ServerMessage) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop() {
    this.onclose?.();
  }
}

const tally = (version: number, counts: number[]): Tally => ({
  version,
  counts,
  total: counts.reduce((a, b) => a + b, 0),
});

function setup() {
  const sockets: FakeSocket[] = [];
  const errors: string[] = [];
  const client = new LiveClient({
    url: "ws://test/ws",
    createSocket: () => {
      const socket = new FakeSocket();
      sockets.push(socket);
      return socket;
    },
    random: () => 0,
    onServerError: (code, message) => errors.push(`${code}: ${message}`),
  });
  client.start();
  return { client, sockets, errors, last: () => sockets[sockets.length - 1]! };
}

describe("LiveClient", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("subscribes watched polls once the server says hello, and names the node", () => {
    const { client, last } = setup();
    client.watch("p1");
    expect(client.getConnection().phase).toBe("connecting");
    last().receive({ type: "hello", node: "node-a", protocol: 1 });
    expect(client.getConnection()).toEqual({ phase: "live", node: "node-a" });
    expect(last().sent).toEqual([{ type: "subscribe", poll: "p1" }]);
  });

  it("keeps the latest refused vote per poll apart from its tally, and tells listeners", () => {
    const { client, last } = setup();
    client.watch("p1");
    last().receive({ type: "hello", node: "node-a", protocol: 1 });
    last().receive({ type: "snapshot", poll: "p1", status: "open", tally: tally(3, [2, 1]) });
    let changes = 0;
    client.subscribeChanges(() => changes++);
    const refused = (stream_id: string) =>
      ({ type: "rejected", poll: "p1", stream_id, code: "poll_closed", message: "this poll is closed" }) as const;
    last().receive(refused("17-0"));
    last().receive(refused("18-0"));
    expect(client.getRejection("p1")?.stream_id).toBe("18-0");
    expect(client.getRejection("p2")).toBeUndefined();
    expect(client.getPoll("p1")?.tally.version).toBe(3);
    expect(changes).toBe(2);
  });

  it("reconnects with backoff and resubscribes since the version shown", () => {
    const { client, sockets, last } = setup();
    client.watch("p1");
    last().receive({ type: "hello", node: "node-a", protocol: 1 });
    last().receive({ type: "snapshot", poll: "p1", status: "open", tally: tally(7, [4, 3]) });
    last().drop();
    expect(client.getConnection()).toMatchObject({ phase: "waiting", lastNode: "node-a" });
    vi.advanceTimersByTime(249);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    last().drop(); // The second attempt fails too: the wait doubles.
    vi.advanceTimersByTime(499);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    last().receive({ type: "hello", node: "node-b", protocol: 1 });
    expect(last().sent).toEqual([{ type: "subscribe", poll: "p1", since: 7 }]);
    expect(client.getConnection()).toEqual({ phase: "live", node: "node-b" });
  });

  it("never shows an older tally than one it showed, from the socket or from REST", () => {
    const { client, last } = setup();
    client.watch("p1");
    last().receive({ type: "hello", node: "n", protocol: 1 });
    client.offer("p1", { tally: tally(5, [3, 2]), status: "open" });
    last().receive({ type: "update", poll: "p1", tally: tally(4, [2, 2]), recent: [], skipped: 0 });
    expect(client.getPoll("p1")?.tally.version).toBe(5);
    last().receive({ type: "closed", poll: "p1", tally: tally(5, [3, 2]) });
    expect(client.getPoll("p1")?.status).toBe("closed");
  });

  it("unsubscribes when the last watcher leaves, and reports server errors in words", () => {
    const { client, last, errors } = setup();
    last().receive({ type: "hello", node: "n", protocol: 1 });
    const first = client.watch("p1");
    const second = client.watch("p1");
    first();
    first();
    expect(last().sent).toEqual([{ type: "subscribe", poll: "p1" }]);
    second();
    expect(last().sent.at(-1)).toEqual({ type: "unsubscribe", poll: "p1" });
    last().receive({ type: "error", code: "poll_not_found", message: "no such poll" });
    expect(errors).toEqual(["poll_not_found: no such poll"]);
  });

  it("notifies listeners only when something shown changed", () => {
    const { client, last } = setup();
    const seen = vi.fn();
    client.subscribeChanges(seen);
    last().receive({ type: "hello", node: "n", protocol: 1 });
    client.offer("p1", { tally: tally(2, [1, 1]) });
    client.offer("p1", { tally: tally(1, [1, 0]) });
    expect(seen).toHaveBeenCalledTimes(2);
  });

  it("stops for good: no reconnect after stop", () => {
    const { client, sockets, last } = setup();
    const socket = last();
    client.stop();
    expect(socket.closed).toBe(true);
    socket.drop();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
  });
});
