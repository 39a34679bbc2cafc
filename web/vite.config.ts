import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

import { precompress } from "./build/precompress";

// `npm run dev` proxies the API and the WebSocket to a running node
// (VOTEWIRE_URL, default the node of `./build.sh run`).
const node = process.env.VOTEWIRE_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react(), precompress()],
  server: {
    proxy: {
      "/api": { target: node, changeOrigin: true },
      "/ws": {
        target: node,
        ws: true,
        changeOrigin: true,
        // The node accepts WebSocket upgrades from its own origin only; the dev
        // server is another origin, so present the node's.
        configure: (proxy) => {
          proxy.on("proxyReqWs", (request) => request.setHeader("origin", node));
        },
      },
    },
  },
  // No source maps in what the node serves: they would hand anyone the client's source.
  build: { target: "es2022", sourcemap: false },
  test: { include: ["src/**/*.test.ts", "build/**/*.test.ts"], environment: "node" },
});
