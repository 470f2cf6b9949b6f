#!/usr/bin/env node
// vigil.js is the npm "bin" shim: it registers tsx so that the TypeScript CLI runs without a
// build step, then loads bin/vigil.ts.
import { register } from 'tsx/esm/api';

register();
await import('./vigil.ts');
