// The identities `vigil up` keeps in its data folder: the log's checkpoint key (with the log it
// signs for) and each witness's key. Made on the first run, loaded on every later one: a restart
// never makes a new key, because clients, witnesses and monitors trust the old ones.
import { existsSync } from 'node:fs';
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db.ts';
import { isLogError } from '../log/errors.ts';
import { initLogKey, loadLogKey, removeLogKey, type LogKey } from '../log/key.ts';
import { initLog } from '../log/log-state.ts';
import { WITNESS_KEY_FILE, initWitnessKey, loadWitnessKey, type WitnessKey } from '../witness/key.ts';
import { join } from 'node:path';
import { UpError } from './errors.ts';

/**
 * ensureLog loads the log's key from `keyFile`, or on a first run makes it (named `origin`) and
 * creates the log in `db`. It refuses, with UpError 'key_missing', a database that holds a log
 * whose key file is gone (the key it just made is removed again), and with 'origin_mismatch' an
 * explicit `origin` that is not the stored key's. Creating the log is idempotent: a run that died
 * between making the key and creating the log finishes the job on the next start.
 */
export async function ensureLog(keyFile: string, origin: { value: string; explicit: boolean }, db: Db, clock: Clock): Promise<LogKey> {
  const fresh = !existsSync(keyFile);
  const key = fresh ? initLogKey(keyFile, origin.value) : loadLogKey(keyFile);
  if (!fresh && origin.explicit && key.signer.name !== origin.value) {
    throw new UpError('origin_mismatch', `the log in this data folder has origin ${JSON.stringify(key.signer.name)}, not ${JSON.stringify(origin.value)}`);
  }
  try {
    await initLog(db, { origin: key.signer.name, signer: key.signer, clock });
  } catch (err) {
    if (!isLogError(err, 'log_exists')) throw err;
    if (fresh) {
      removeLogKey(keyFile);
      throw new UpError('key_missing', `the data folder holds a log but its checkpoint key ${keyFile} is gone; restore it (a new key would be a new log)`, { cause: err });
    }
    // A log exists already: this is a restart; createLog checks that the key is the log's.
  }
  return key;
}

/** ensureWitnessKey loads `<dir>/witness.key`, or makes it (named `name`) on a first run. */
export function ensureWitnessKey(dir: string, name: string): WitnessKey {
  const keyFile = join(dir, WITNESS_KEY_FILE);
  if (!existsSync(keyFile)) initWitnessKey(dir, name);
  return loadWitnessKey(keyFile);
}
