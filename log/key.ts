// The log's checkpoint key: one Ed25519 key in a file of its data folder, in Go's note signer key
// format (`PRIVATE+KEY+<origin>+<hex8>+<base64>`, as `vigil key generate` writes it). Its name is
// the log's origin. It signs checkpoints and v1 SETs. The key is a secret: never logged, printed or
// quoted in an error.
import { unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { makePrivateDir, readSecretFile, writeNewFile, type FileFailure } from '../platform/key-file.ts';
import type { Ed25519Signer } from '../tlog/note-ed25519.ts';
import { NOTE_KEY_TYPE_ED25519 } from '../tlog/note-key-id.ts';
import { formatVerifierKey, generateSignerKey, parseSigner } from '../tlog/note-key.ts';
import { errorMessage, LogError } from './errors.ts';

/** LOG_KEY_FILE is the name of the key file inside the log's data folder. */
export const LOG_KEY_FILE = 'log.key';

/** LogKey is a loaded checkpoint key. */
export interface LogKey {
  /** signer signs checkpoints and SETs; its name is the origin (secret inside; never log it). */
  readonly signer: Ed25519Signer;
  /** vkey is the C2SP verifier key (type 0x01) that clients, witnesses and monitors configure. */
  readonly vkey: string;
  /** groupOrOtherReadable is true when the file's mode lets others than its owner read it. */
  readonly groupOrOtherReadable: boolean;
}

/** formatLogVkey renders the verifier key of the log's signer. */
export function formatLogVkey(signer: Pick<Ed25519Signer, 'name' | 'publicKey'>): string {
  return formatVerifierKey({ name: signer.name, type: NOTE_KEY_TYPE_ED25519, publicKey: signer.publicKey });
}

/**
 * initLogKey creates a fresh Ed25519 key named `origin` in `keyFile` (mode 0600; its folder is
 * created with mode 0700 if missing). It refuses, with LogError 'invalid_config', an origin that is
 * not a valid key name and a file that exists: a log's key is made once.
 */
export function initLogKey(keyFile: string, origin: string): LogKey {
  let key: ReturnType<typeof generateSignerKey>;
  try {
    key = generateSignerKey(origin);
  } catch (err) {
    throw new LogError('invalid_config', `couldn't make a checkpoint key for origin ${JSON.stringify(origin)}: ${errorMessage(err)}`, { cause: err });
  }
  const fail: FileFailure = (why, cause) => new LogError('invalid_config', `couldn't create the checkpoint key ${keyFile}: ${why}`, { cause });
  makePrivateDir(dirname(keyFile), fail);
  writeNewFile(keyFile, `${key.skey}\n`, fail);
  return { signer: key.signer, vkey: key.vkey, groupOrOtherReadable: false };
}

/** removeLogKey deletes a key file initLogKey just made (init failed after it). */
export function removeLogKey(keyFile: string): void {
  unlinkSync(keyFile);
}

/**
 * loadLogKey reads the key file. Throws LogError 'invalid_config' naming the file, never its
 * content, when it is missing or does not parse.
 */
export function loadLogKey(keyFile: string): LogKey {
  const { text, readableByOthers } = readSecretFile(keyFile, (why, cause) =>
    new LogError('invalid_config', `couldn't read the checkpoint key ${keyFile}: ${why} (run "vigil log init" first)`, { cause }));
  let signer: Ed25519Signer;
  try {
    signer = parseSigner(text.trim());
  } catch (err) {
    // The tlog parser never quotes a secret key; its message names only the defect.
    throw new LogError('invalid_config', `couldn't parse the checkpoint key ${keyFile}: ${errorMessage(err)}`, { cause: err });
  }
  return { signer, vkey: formatLogVkey(signer), groupOrOtherReadable: readableByOthers };
}
