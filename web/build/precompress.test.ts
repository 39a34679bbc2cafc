import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";

import { precompressDir } from "./precompress";

describe("precompressDir", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes .br and .gz of large text files that decompress to the original", () => {
    dir = mkdtempSync(join(tmpdir(), "votewire-precompress-"));
    mkdirSync(join(dir, "assets"));
    const script = "export const vote = () => 1;\n".repeat(200);
    writeFileSync(join(dir, "assets", "index-abc123.js"), script);
    writeFileSync(join(dir, "tiny.css"), "a{}");
    writeFileSync(join(dir, "logo.png"), Buffer.alloc(4096, 7));

    const written = precompressDir(dir).sort();

    const js = join(dir, "assets", "index-abc123.js");
    expect(written).toEqual([`${js}.br`, `${js}.gz`]);
    expect(brotliDecompressSync(readFileSync(`${js}.br`)).toString()).toBe(script);
    expect(gunzipSync(readFileSync(`${js}.gz`)).toString()).toBe(script);
    expect(existsSync(join(dir, "tiny.css.br"))).toBe(false);
    expect(existsSync(join(dir, "logo.png.gz"))).toBe(false);
  });
});
