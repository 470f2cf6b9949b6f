import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { encodeBase64 } from '../tlog/base64.ts';
import { parseCheckpoint } from '../tlog/checkpoint.ts';
import { parseCosignerKey } from '../tlog/cosignature.ts';
import { isTlogError } from '../tlog/errors.ts';
import { verifyNote, type NoteVerifier } from '../tlog/note.ts';
import { generateSignerKey, parseVerifierKey } from '../tlog/note-key.ts';

function fail(message: string): never {
  process.stderr.write(`vigil: ${message}\n`);
  process.exit(1);
}

function describeError(err: unknown): string {
  return isTlogError(err) ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err);
}

/**
 * registerKeyCommands adds the note-key tools: `vigil key generate` makes an Ed25519 note signing
 * key (the secret goes to a file, never to the terminal) and `vigil note verify` checks a signed
 * note, such as a checkpoint, against log and witness verifier keys.
 */
export function registerKeyCommands(program: Command): void {
  program
    .command('key')
    .description('note signing keys (C2SP signed-note)')
    .command('generate')
    .description('create an Ed25519 note signing key; writes the secret key file and prints the verifier key')
    .requiredOption('--name <name>', 'key name, normally the log origin or witness name (no spaces, no "+")')
    .requiredOption('--out <file>', 'file for the secret key; refused if it exists')
    .action((opts: { name: string; out: string }) => {
      let key: ReturnType<typeof generateSignerKey>;
      try {
        key = generateSignerKey(opts.name);
      } catch (err) {
        fail(`couldn't create a key named ${JSON.stringify(opts.name)}: ${describeError(err)}`);
      }
      try {
        writeFileSync(opts.out, `${key.skey}\n`, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        fail(`couldn't write the secret key to ${opts.out}: ${describeError(err)}`);
      }
      process.stdout.write(`${key.vkey}\n`);
    });

  program
    .command('note')
    .description('signed notes (C2SP signed-note)')
    .command('verify')
    .description('verify a signed note (e.g. a checkpoint) from FILE or standard input')
    .argument('[file]', 'the note; standard input when omitted')
    .option('--key <vkey...>', 'log or signer verifier keys')
    .option('--cosigner <vkey...>', 'witness keys (cosignature/v1; 0x01 vkeys are accepted)')
    .action((file: string | undefined, opts: { key?: string[]; cosigner?: string[] }) => {
      const verifiers: NoteVerifier[] = [];
      try {
        for (const k of opts.key ?? []) verifiers.push(parseVerifierKey(k));
        for (const k of opts.cosigner ?? []) verifiers.push(parseCosignerKey(k));
      } catch (err) {
        fail(`couldn't parse a verifier key: ${describeError(err)}`);
      }
      if (verifiers.length === 0) fail('give at least one --key or --cosigner');
      const note = readFileSync(file ?? 0);
      let verified: ReturnType<typeof verifyNote>;
      try {
        verified = verifyNote(new Uint8Array(note), verifiers);
      } catch (err) {
        fail(`note does not verify: ${describeError(err)}`);
      }
      for (const v of verified.verified) process.stdout.write(`verified: ${v.verifier.name}\n`);
      try {
        const cp = parseCheckpoint(verified.text);
        process.stdout.write(`checkpoint: origin ${cp.origin}, size ${cp.size}, root ${encodeBase64(cp.root)}\n`);
      } catch {
        // Not every note is a checkpoint; the signatures are what was asked about.
      }
    });
}
