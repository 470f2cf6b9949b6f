// Which witnesses of a `vigil verify` policy cosigned a checkpoint, with both C2SP cosignature
// forms: an Ed25519 witness (cosignature/v1, type 0x04) and an ML-DSA-44 one (subtree/v1, 0x06).
import { ml_dsa44 } from '@noble/post-quantum/ml-dsa.js';
import { describe, expect, it } from 'vitest';
import { formatCheckpoint } from '../../tlog/checkpoint.ts';
import { formatSubtreeMessage, newCosignatureSigner, parseCosignerKey, signCosignature, SUBTREE_V1_SIGNATURE_BYTES } from '../../tlog/cosignature.ts';
import { formatSignatureLine, signNote } from '../../tlog/note.ts';
import { generateEd25519Seed } from '../../tlog/note-ed25519.ts';
import { NOTE_KEY_TYPE_MLDSA44 } from '../../tlog/note-key-id.ts';
import { formatVerifierKey, generateSignerKey } from '../../tlog/note-key.ts';
import { formatWitnessVkey } from '../../witness/key.ts';
import { cosignersOf, parseVerifierWitnessPolicy } from './witnessed.ts';

describe('cosignersOf with Ed25519 and ML-DSA-44 witnesses', () => {
  const log = generateSignerKey('log.vigil.test/pq');
  const ed = newCosignatureSigner('ed.witness.test', generateEd25519Seed());
  const pq = { name: 'pq.witness.test', ...ml_dsa44.keygen(new Uint8Array(32).fill(5)) };
  const pqVkey = formatVerifierKey({ name: pq.name, type: NOTE_KEY_TYPE_MLDSA44, publicKey: pq.publicKey });
  const policy = parseVerifierWitnessPolicy(
    `witness ed ${formatWitnessVkey(ed)}\nwitness pq ${pqVkey}\ngroup both 2 ed pq\nquorum both\n`,
    { baseUrl: 'https://log.vigil.test', logId: new Uint8Array(32), publicKey: log.signer.publicKey, validFor: { start: new Date(0) } },
  );
  const cp = { origin: log.signer.name, size: 12n, root: new Uint8Array(32).fill(1) };
  const text = formatCheckpoint(cp);
  const pqLine = (c: typeof cp) => {
    const t = 1_800_000_000n;
    const blob = new Uint8Array(SUBTREE_V1_SIGNATURE_BYTES);
    new DataView(blob.buffer).setBigUint64(0, t);
    blob.set(ml_dsa44.sign(formatSubtreeMessage({ cosigner: pq.name, timestamp: t, origin: c.origin, start: 0n, end: c.size, hash: c.root }), pq.secretKey), 8);
    return formatSignatureLine({ name: pq.name, keyId: parseCosignerKey(pqVkey).keyId, signature: blob });
  };

  it('counts each witness whose line verifies, of either form', () => {
    expect(policy.witnesses.map((w) => [w.name, w.verifier.type])).toEqual([['ed', 4], ['pq', 6]]);
    const note = signNote(text, [log.signer]) + signCosignature(ed, text, 1_800_000_000n) + pqLine(cp);
    expect(cosignersOf(note, policy)).toEqual(['ed', 'pq']);
  });

  it('does not count an ML-DSA-44 line made for another tree', () => {
    const note = signNote(text, [log.signer]) + signCosignature(ed, text, 1_800_000_000n) + pqLine({ ...cp, size: 11n });
    expect(cosignersOf(note, policy)).toEqual(['ed']);
  });
});
