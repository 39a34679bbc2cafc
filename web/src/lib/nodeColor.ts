import type { CSSProperties } from "react";

// A colour per node name, the same on every page and every browser, so a vote in the
// feed and the node card in the cluster view match at a glance.

/** A hue from 0 to 359 for the node (FNV-1a of its name, spread by the golden angle). */
export function nodeHue(node: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < node.length; i++) {
    hash ^= node.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return Math.round((hash % 360) * 137.508) % 360;
}

/** Sets `--node-hue` for the node; the stylesheet picks lightness per colour scheme. */
export function nodeStyle(node: string): CSSProperties {
  return { "--node-hue": nodeHue(node) } as CSSProperties;
}
