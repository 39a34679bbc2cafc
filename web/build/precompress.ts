// Brotli and gzip copies of the built client, written once at build time so the node
// serves `file.br` or `file.gz` as the browser accepts (tower-http's precompressed
// ServeDir) instead of compressing on every request, or not at all. Node's own zlib:
// no dependency.

import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { Plugin } from "vite";

/** Text formats: images such as PNG are compressed already. */
const COMPRESSIBLE = new Set([".js", ".css", ".html", ".svg", ".json", ".txt"]);
/** Below this a compressed copy saves less than the request costs. */
const MIN_BYTES = 1024;

/** Writes `name.br` and `name.gz` beside every compressible file under `dir` where
 *  compressing saves something; returns the copies written. */
export function precompressDir(dir: string): string[] {
  const written: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      written.push(...precompressDir(path));
      continue;
    }
    if (!COMPRESSIBLE.has(extname(name)) || statSync(path).size < MIN_BYTES) continue;
    const body = readFileSync(path);
    const copies: [string, Buffer][] = [
      [`${path}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })],
      [`${path}.gz`, gzipSync(body, { level: 9 })],
    ];
    for (const [copy, compressed] of copies) {
      if (compressed.length < body.length) {
        writeFileSync(copy, compressed);
        written.push(copy);
      }
    }
  }
  return written;
}

/** The Vite plugin: precompresses the output folder once the bundle is written. */
export function precompress(): Plugin {
  return {
    name: "votewire-precompress",
    apply: "build",
    writeBundle(options) {
      if (options.dir) precompressDir(options.dir);
    },
  };
}
