// Starts a real votewire node for the end-to-end tests, on a port the OS picks, and
// waits for its "serving on" line: no sleeps, no port races.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const WEB_DIR = resolve(import.meta.dirname, "..");
const REPO = resolve(WEB_DIR, "..");

/** The server binary: $VOTEWIRE_BIN, or the debug build `scripts/e2e.sh` makes. */
export const SERVER_BIN = process.env.VOTEWIRE_BIN ?? join(REPO, "target/debug/votewire");

export type RunningNode = {
  url: string;
  node: string;
  /** Stops the process (SIGTERM: it drains and closes sockets with 1001) and starts it again on the same port and data. */
  restart: () => Promise<void>;
  stop: () => Promise<void>;
};

const SERVING = /votewire serving on (http:\/\/\S+)/;
// Colour codes, in case a terminal-like stderr makes the log coloured.
const ANSI = /\x1b\[[0-9;]*m/g;

export async function startNode(node: string): Promise<RunningNode> {
  const dataDir = mkdtempSync(join(tmpdir(), `votewire-e2e-${node}-`));
  let { child, url } = await spawnNode(node, dataDir, "127.0.0.1:0").catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  return {
    url,
    node,
    restart: async () => {
      await exit(child);
      ({ child } = await spawnNode(node, dataDir, new URL(url).host));
    },
    stop: async () => {
      await exit(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function spawnNode(node: string, dataDir: string, listen: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    SERVER_BIN,
    ["--listen", listen, "--data-dir", dataDir, "--web-dir", join(WEB_DIR, "dist"), "--node-id", node, "--drain-secs", "1"],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, RUST_LOG: "info" } },
  );
  const log: string[] = [];
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      let pending = "";
      child.stderr!.setEncoding("utf8");
      child.stderr!.on("data", (chunk: string) => {
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines.map((l) => l.replace(ANSI, ""))) {
          log.push(line);
          const match = SERVING.exec(line);
          if (match) resolveUrl(match[1]!);
        }
      });
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`votewire exited (${code}) before serving:\n${log.join("\n")}`)));
    });
    return { child, url };
  } catch (error) {
    await exit(child);
    throw error;
  }
}

async function exit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  await exited;
}
