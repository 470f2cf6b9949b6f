// DIR/up.json: what `vigil up` runs and where, for people and for tools (tests, `vigil verify`
// configured by hand, monitors). Rewritten at every start (the port may change); the keys in it
// never change for a data folder. Other components add their parts (trustedRoot, oidc, ...) through
// UpJson's open fields.
import { renameSync, writeFileSync } from 'node:fs';

/** UpWitnessJson is one witness: its policy name, cosigner vkey and submission URL. */
export interface UpWitnessJson {
  name: string;
  vkey: string;
  url: string;
}

/** UpJson is the content of up.json. */
export interface UpJson {
  /** url is the base URL everything is served under. */
  url: string;
  /** log: its origin, verifier key and tlog-tiles prefix (checkpoint, tiles). */
  log: { origin: string; vkey: string; tiles: string };
  witnesses: UpWitnessJson[];
  /** witnessPolicy is the tlog-policy text the log publishes by (also at /api/v2/witness-policy). */
  witnessPolicy: string;
  /**
   * Further parts: trustedRoot {file, url}, oidc {issuer, token (the token endpoint URL)}, search
   * (the search API URL), alerts {url, outbox} (up/main.ts formatUpJson).
   */
  [part: string]: unknown;
}

/** writeUpJson writes up.json atomically (a temporary file renamed over it), mode 0644. */
export function writeUpJson(file: string, content: UpJson): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, file);
}
