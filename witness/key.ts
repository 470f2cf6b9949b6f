// The witness's identity: one Ed25519 key in a file of its data folder, in Go's note signer key
// format (`PRIVATE+KEY+<name>+<hex8>+<base64>`, the format of `vigil key generate` and of
// golang.org/x/mod/sumdb/note), used for cosignature/v1 (c2sp.org/tlog-cosignature). The key is a
// secret: it is never logged, printed or quoted in an error.
import { join } from 'node:path';
import { makePrivateDir, readSecretFile, writeNewFile, type FileFailure } from '../platform/key-file.ts';
import { newCosignatureSigner, type CosignatureSigner } from '../tlog/cosignature.ts';
import { NOTE_KEY_TYPE_COSIGNATURE_V1 } from '../tlog/note-key-id.ts';
import { formatVerifierKey, generateSignerKey, parseSignerKey } from '../tlog/note-key.ts';
import { WitnessError } from './errors.ts';

/** WITNESS_KEY_FILE is the name of the key file inside the witness's data folder. */
export const WITNESS_KEY_FILE = 'witness.key';

/** WitnessKey is a loaded witness key: its name, its cosigner and its public vkey. */
export interface WitnessKey {
  /** name is the witness name, the key name of its cosignature lines. */
  readonly name: string;
  /** signer cosigns checkpoints (secret inside; never log it). */
  readonly signer: CosignatureSigner;
  /** vkey is the cosigner verifier key, type 0x04, that clients and logs configure. */
  readonly vkey: string;
  /** groupOrOtherReadable is true when the file's mode lets others than its owner read it. */
  readonly groupOrOtherReadable: boolean;
}

/** formatWitnessVkey renders the cosignature/v1 (type 0x04) vkey of a cosigner. */
export function formatWitnessVkey(signer: Pick<CosignatureSigner, 'name' | 'publicKey'>): string {
  return formatVerifierKey({ name: signer.name, type: NOTE_KEY_TYPE_COSIGNATURE_V1, publicKey: signer.publicKey });
}

/**
 * initWitnessKey creates a fresh Ed25519 key named `name` in `<dataDir>/witness.key` (mode 0600;
 * the folder is created with mode 0700 if missing) and returns its vkey. It refuses, with
 * WitnessError 'invalid_config', a name that is not a valid key name and a key file that already
 * exists: a witness's key is created once (replacing it would orphan the state others verify).
 */
export function initWitnessKey(dataDir: string, name: string): { keyFile: string; vkey: string } {
  let key: ReturnType<typeof generateSignerKey>;
  try {
    key = generateSignerKey(name);
  } catch (err) {
    throw new WitnessError('invalid_config', `couldn't create a witness key named ${JSON.stringify(name)}: ${messageOf(err)}`, { cause: err });
  }
  const keyFile = join(dataDir, WITNESS_KEY_FILE);
  const fail: FileFailure = (why, cause) => new WitnessError('invalid_config', `couldn't create the witness key ${keyFile}: ${why}`, { cause });
  makePrivateDir(dataDir, fail);
  writeNewFile(keyFile, `${key.skey}\n`, fail);
  const seed = parseSignerKey(key.skey).seed;
  return { keyFile, vkey: formatWitnessVkey(newCosignatureSigner(name, seed)) };
}

/**
 * loadWitnessKey reads the key file written by initWitnessKey (or `vigil key generate`). Throws
 * WitnessError 'invalid_config' naming the file, never its content, when it is missing or does not
 * parse.
 */
export function loadWitnessKey(keyFile: string): WitnessKey {
  const { text, readableByOthers } = readSecretFile(keyFile, (why, cause) =>
    new WitnessError('invalid_config', `couldn't read the witness key ${keyFile}: ${why} (run "vigil witness init" first)`, { cause }));
  let signer: CosignatureSigner;
  try {
    const key = parseSignerKey(text.trim());
    signer = newCosignatureSigner(key.name, key.seed);
  } catch (err) {
    // The tlog parser never quotes a secret key; its message names only the defect.
    throw new WitnessError('invalid_config', `couldn't parse the witness key ${keyFile}: ${messageOf(err)}`, { cause: err });
  }
  return { name: signer.name, signer, vkey: formatWitnessVkey(signer), groupOrOtherReadable: readableByOthers };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
