// The entry point of an entry-verifier worker thread (verify-pool.ts). Worker threads do not
// inherit the tsx loader of the main thread, so this registers it, as bin/vigil.js does, and then
// loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./verify-worker.ts');
