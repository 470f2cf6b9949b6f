// signature-bench.ts times signature work: Ed25519 (checkpoints, cosignatures) and ECDSA P-256
// (hashedrekord entries), node:crypto (OpenSSL) against @noble/curves, and the tlog note,
// checkpoint and cosignature functions built on them.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { formatCheckpoint, openCheckpoint } from '../tlog/checkpoint.ts';
import { formatCosignatureMessage, newCosignatureSigner, newCosignatureVerifier, signCosignature, verifyCosignature } from '../tlog/cosignature.ts';
import { encodeUtf8, newVerifierList, parseSignatureLine, signNote, verifyNote } from '../tlog/note.ts';
import { formatVerifierKey, parseVerifierKey } from '../tlog/note-key.ts';
import { NOTE_KEY_TYPE_ED25519 } from '../tlog/note-key-id.ts';
import {
  ed25519PrivateKeyFromSeed,
  ed25519PublicKeyFromBytes,
  generateEd25519Seed,
  newEd25519Signer,
  signEd25519,
  signEd25519Noble,
  verifyEd25519,
  verifyEd25519Noble,
} from '../tlog/note-ed25519.ts';
import { measure, printTable, repeat, type BenchResult, type Comparison, type SectionReport } from './harness.ts';

const BATCH = 8;
const ORIGIN = 'vigil.example/log';
const COSIGNER = 'witness.example/w1';

function rate(name: string, op: () => unknown): Promise<BenchResult> {
  return measure(name, repeat(BATCH, op), { batch: BATCH });
}

function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`${what} did not verify`);
}

function vs(primitive: string, node: BenchResult, noble: BenchResult, nodeLabel = 'node:crypto'): Comparison {
  return { primitive, a: { label: nodeLabel, result: node }, b: { label: '@noble/curves', result: noble } };
}

async function benchEd25519(text: string): Promise<{ results: BenchResult[]; comparisons: Comparison[] }> {
  const seed = generateEd25519Seed();
  const signer = newEd25519Signer(ORIGIN, seed);
  const privateKey = ed25519PrivateKeyFromSeed(seed);
  const publicKey = ed25519PublicKeyFromBytes(signer.publicKey);
  const msg = encodeUtf8(text);
  const sig = signEd25519(privateKey, msg);
  must(verifyEd25519(publicKey, msg, sig) && verifyEd25519Noble(signer.publicKey, msg, sig), 'Ed25519 signature');

  const verifyNode = await rate(`Ed25519 verify, ${msg.length} B checkpoint (node:crypto)`, () => verifyEd25519(publicKey, msg, sig));
  const verifyNoble = await rate(`Ed25519 verify, ${msg.length} B checkpoint (@noble)`, () => verifyEd25519Noble(signer.publicKey, msg, sig));
  const signNode = await rate('Ed25519 sign, checkpoint (node:crypto)', () => signEd25519(privateKey, msg));
  const signNoble = await rate('Ed25519 sign, checkpoint (@noble)', () => signEd25519Noble(seed, msg));

  const verifier = parseVerifierKey(formatVerifierKey({ name: ORIGIN, type: NOTE_KEY_TYPE_ED25519, publicKey: signer.publicKey }));
  const list = newVerifierList([verifier]);
  const note = signNote(text, [signer]);
  const noteVerify = await rate('verifyNote, signed checkpoint', () => verifyNote(note, list));
  const open = await rate('openCheckpoint, signed checkpoint', () => openCheckpoint(note, list, { origin: ORIGIN }));
  const noteSign = await rate('signNote, checkpoint', () => signNote(text, [signer]));
  return {
    results: [verifyNode, verifyNoble, signNode, signNoble, noteVerify, open, noteSign],
    comparisons: [vs('Ed25519 verify', verifyNode, verifyNoble), vs('Ed25519 sign', signNode, signNoble)],
  };
}

// benchEcdsa verifies one P-256 signature over a 32-byte message (hashedrekord's artifact digest)
// three ways. node:crypto cannot verify a given prehash: crypto.verify always hashes its input
// (algorithm null defaults to SHA-256 for EC keys too), so it is timed on the same signature over
// SHA-256(message); @noble verifies both that way and on the digest directly (prehash: false).
async function benchEcdsa(): Promise<{ results: BenchResult[]; comparisons: Comparison[] }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const raw = rawP256(spki);
  const msg = new Uint8Array(randomBytes(32));
  const digest = new Uint8Array(createHash('sha256').update(msg).digest());
  const der = new Uint8Array(sign('sha256', msg, privateKey));
  const compact = p256.Signature.fromBytes(der, 'der').toBytes('compact');
  // OpenSSL does not normalise s, so @noble must accept high-s signatures (lowS: false).
  const opts = { lowS: false } as const;
  must(verify('sha256', msg, publicKey, der), 'node ECDSA');
  must(p256.verify(compact, msg, raw, opts), 'noble ECDSA (prehash)');
  must(p256.verify(compact, digest, raw, { ...opts, prehash: false }), 'noble ECDSA (digest)');

  const node = await rate('ECDSA P-256 verify (node:crypto, DER)', () => verify('sha256', msg, publicKey, der));
  const nodeImport = await rate('ECDSA P-256 verify incl. SPKI import (node:crypto)', () =>
    verify('sha256', msg, createPublicKey({ key: spki, format: 'der', type: 'spki' }), der),
  );
  const jwk = publicKey.export({ format: 'jwk' });
  const importDer = await rate('P-256 key import alone, DER SPKI (node:crypto)', () =>
    createPublicKey({ key: spki, format: 'der', type: 'spki' }),
  );
  const importJwk = await rate('P-256 key import alone, JWK (node:crypto)', () => createPublicKey({ key: jwk, format: 'jwk' }));
  const noble = await rate('ECDSA P-256 verify (@noble, compact)', () => p256.verify(compact, msg, raw, opts));
  const nobleDigest = await rate('ECDSA P-256 verify of a digest (@noble, prehash: false)', () =>
    p256.verify(compact, digest, raw, { ...opts, prehash: false }),
  );
  return {
    results: [node, nodeImport, noble, nobleDigest, importDer, importJwk],
    comparisons: [
      vs('ECDSA P-256 verify', node, noble),
      vs('ECDSA P-256 verify, per-entry key', nodeImport, nobleDigest, 'node:crypto incl. SPKI import'),
      {
        primitive: 'P-256 key import (node:crypto)',
        a: { label: 'JWK', result: importJwk },
        b: { label: 'DER SPKI', result: importDer },
      },
    ],
  };
}

// rawP256 takes the uncompressed point out of a P-256 SubjectPublicKeyInfo (its last 65 bytes).
function rawP256(spki: Buffer): Uint8Array {
  return new Uint8Array(spki.subarray(spki.length - 65));
}

async function benchCosignature(text: string): Promise<{ results: BenchResult[]; comparisons: Comparison[] }> {
  const seed = generateEd25519Seed();
  const signer = newCosignatureSigner(COSIGNER, seed);
  const verifier = newCosignatureVerifier(COSIGNER, signer.publicKey);
  const timestamp = 1_700_000_000n;
  const line = signCosignature(signer, text, timestamp);
  const sig = parseSignatureLine(line.slice(0, -1));
  const noble = () => verifyEd25519Noble(signer.publicKey, formatCosignatureMessage(text, timestamp), sig.signature.subarray(8));
  must(verifyCosignature(verifier, text, sig) === timestamp && noble(), 'cosignature');

  const verifyTlog = await rate('verifyCosignature (tlog, node:crypto)', () => verifyCosignature(verifier, text, sig));
  const verifyNoble = await rate('cosignature/v1 verify, same message (@noble)', noble);
  const signTlog = await rate('signCosignature (tlog, node:crypto)', () => signCosignature(signer, text, timestamp));
  return {
    results: [verifyTlog, verifyNoble, signTlog],
    comparisons: [vs('cosignature/v1 verify', verifyTlog, verifyNoble, 'tlog (node:crypto)')],
  };
}

/** benchSignatures prints the signature tables and returns node:crypto vs @noble comparisons. */
export async function benchSignatures(root: Uint8Array, size: bigint): Promise<SectionReport> {
  const text = formatCheckpoint({ origin: ORIGIN, size, root });
  const ed = await benchEd25519(text);
  printTable('Ed25519 and signed notes (ops/s)', ed.results, {
    [ed.results[1]!.name]: ed.results[0]!.name,
    [ed.results[3]!.name]: ed.results[2]!.name,
    [ed.results[4]!.name]: ed.results[0]!.name,
    [ed.results[5]!.name]: ed.results[0]!.name,
  });
  const ec = await benchEcdsa();
  printTable('ECDSA P-256, 32-byte message (verifies/s; ratio vs node:crypto)', ec.results, {
    [ec.results[1]!.name]: ec.results[0]!.name,
    [ec.results[2]!.name]: ec.results[0]!.name,
    [ec.results[3]!.name]: ec.results[0]!.name,
    [ec.results[5]!.name]: ec.results[4]!.name,
  });
  const co = await benchCosignature(text);
  printTable('Cosignatures, cosignature/v1 (ops/s; ratio vs tlog verify)', co.results, {
    [co.results[1]!.name]: co.results[0]!.name,
  });
  return { comparisons: [...ed.comparisons, ...ec.comparisons, ...co.comparisons], notes: [] };
}
