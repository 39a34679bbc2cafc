// Where the end-to-end tests write what they make (the screenshots): never the work tree
// by default, so a test run leaves `git status` clean. web/screenshots/ (committed, shown
// by the README) is refreshed on purpose only, by `npm run screenshots`.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export type OutputDir = {
  dir: string;
  /** Made for this run (no $VOTEWIRE_E2E_OUT): removed again if nothing was written. */
  fresh: boolean;
};

/**
 * $VOTEWIRE_E2E_OUT (made when the first output is written), else a fresh folder under
 * the system temp dir, which is then put in $VOTEWIRE_E2E_OUT so every test file of the
 * run writes to the same one.
 */
export function e2eOutputDir(): OutputDir {
  const given = process.env.VOTEWIRE_E2E_OUT;
  if (given) return { dir: resolve(given), fresh: false };
  const dir = mkdtempSync(join(tmpdir(), "votewire-e2e-"));
  process.env.VOTEWIRE_E2E_OUT = dir;
  return { dir, fresh: true };
}
