// The log's witness policy: a C2SP tlog-policy text (tlog/policy.ts parses and evaluates it) that
// says which witnesses the log submits its checkpoints to (`witness <name> <vkey> <url>`) and when
// a checkpoint counts as witnessed (`group`, `quorum`). The same text, with the log's own `log`
// line, is trusted-root material: `vigil verify` and monitors evaluate published checkpoints
// against it.
import { newPolicyCosignerVerifier, type CosignatureVerifier } from '../tlog/cosignature.ts';
import { equalBytes } from '../tlog/merkle.ts';
import { formatKeyId } from '../tlog/note.ts';
import { formatVerifierKey } from '../tlog/note-key.ts';
import { NOTE_KEY_TYPE_ED25519 } from '../tlog/note-key-id.ts';
import { formatPolicy, parsePolicy, type Policy } from '../tlog/policy.ts';
import { LogError, errorMessage } from './errors.ts';

/** WitnessEndpoint is one witness the log submits to. */
export interface WitnessEndpoint {
  /** name is the witness's name in the policy: what quorum evaluation and metric labels use. */
  readonly name: string;
  /** url is the witness's tlog-witness submission prefix, without a final slash. */
  readonly url: string;
  /** verifier checks its cosignature/v1 lines (a 0x01 vkey is matched on its 0x04 key ID). */
  readonly verifier: CosignatureVerifier;
  /** keyRef is `<key name>+<hex 0x04 key ID>`: what persisted per-witness state is keyed by. */
  readonly keyRef: string;
}

/** LogWitnessPolicy is a policy checked for this log, ready for the publisher. */
export interface LogWitnessPolicy {
  readonly policy: Policy;
  /** text is the policy in canonical form including this log's `log` line: trusted-root material. */
  readonly text: string;
  /** witnesses are the policy's witnesses, in policy order. */
  readonly witnesses: readonly WitnessEndpoint[];
}

/** LogPublicKey is the log's checkpoint key: its name is the origin (an Ed25519Signer fits). */
export interface LogPublicKey {
  readonly name: string;
  readonly publicKey: Uint8Array;
}

/**
 * loadWitnessPolicy parses a tlog-policy text for the log whose key is `logKey` and checks that the
 * log can act on it: every witness has an http(s) submission URL (keys: Ed25519 as 0x01 or 0x04,
 * or ML-DSA-44 as 0x06, whose subtree/v1 lines are verified too). If the text lists logs, one must be
 * this log (same origin and key); if it lists none, this log's line is added. Throws LogError
 * 'invalid_config' naming every problem. `quorum none` is allowed: every checkpoint is published.
 */
export function loadWitnessPolicy(text: string, logKey: LogPublicKey): LogWitnessPolicy {
  let policy: Policy;
  try {
    policy = parsePolicy(text);
    if (policy.logs.length === 0) {
      const vkey = formatVerifierKey({ name: logKey.name, type: NOTE_KEY_TYPE_ED25519, publicKey: logKey.publicKey });
      policy = parsePolicy(`log ${vkey}\n${text}`);
    }
  } catch (err) {
    throw new LogError('invalid_config', `couldn't parse the witness policy: ${errorMessage(err)}`, { cause: err });
  }
  const problems: string[] = [];
  const ours = policy.logs.some(
    (l) => l.origin === logKey.name && l.key.type === NOTE_KEY_TYPE_ED25519 && equalBytes(l.key.publicKey, logKey.publicKey),
  );
  if (!ours) problems.push(`no log line of the policy is this log (${logKey.name} with its checkpoint key)`);
  const witnesses: WitnessEndpoint[] = [];
  for (const w of policy.witnesses) {
    const url = checkSubmissionUrl(w.url);
    if (typeof url !== 'string') problems.push(`witness ${JSON.stringify(w.name)}: ${url.problem}`);
    if (typeof url !== 'string') continue;
    const verifier = newPolicyCosignerVerifier(w.key);
    witnesses.push({ name: w.name, url, verifier, keyRef: `${verifier.name}+${formatKeyId(verifier.keyId)}` });
  }
  if (problems.length > 0) throw new LogError('invalid_config', `witness policy: ${problems.join('; ')}`);
  return { policy, text: formatPolicy(policy), witnesses };
}

// A submission prefix is an absolute http(s) URL without query or fragment; `<url>/add-checkpoint`
// is appended to it.
function checkSubmissionUrl(url: string | undefined): string | { problem: string } {
  if (url === undefined) return { problem: 'no submission URL (the log submits to `<url>/add-checkpoint`)' };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { problem: `submission URL ${JSON.stringify(url)} is not a URL` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { problem: `submission URL ${JSON.stringify(url)} is not http(s)` };
  if (u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') {
    return { problem: `submission URL ${JSON.stringify(url)} has a query, fragment or credentials` };
  }
  return url.replace(/\/+$/, '');
}
