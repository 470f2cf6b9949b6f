// sign-commands.ts adds `vigil sign` and `vigil verify`: argument parsing and output only; the
// logic is log/bundle/sign.ts (signArtifact) and log/bundle/verify.ts (verifyBundle).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { isBundleError } from '../log/bundle/errors.ts';
import { fetchTrustedRoot, signArtifact, type Attestation } from '../log/bundle/sign.ts';
import { parseTrustedRoot } from '../log/bundle/trusted-root.ts';
import { verifyBundle, type VerifiedBundle } from '../log/bundle/verify.ts';
import { attachWitnessedCheckpoint, DEFAULT_WITNESS_WAIT_MS, fetchWitnessPolicy, verifyBundleWitnessed } from '../log/bundle/witnessed.ts';
import type { BundleJson } from '../log/bundle/bundle-json.ts';

/** DEFAULT_VIGIL_URL is where `vigil log serve` and `vigil up` listen by default. */
export const DEFAULT_VIGIL_URL = 'http://127.0.0.1:7370';

/** MAX_JSON_FILE_BYTES bounds the bundle and trusted-root files `vigil verify` reads. */
const MAX_JSON_FILE_BYTES = 4 << 20;

function fail(what: string, err: unknown): never {
  const detail = isBundleError(err) ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`vigil: ${what}: ${detail}\n`);
  process.exit(1);
}

function readFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    fail(`couldn't read the ${what} ${file}`, err);
  }
}

function readJsonFile(file: string, what: string): string {
  const bytes = readFile(file, what);
  if (bytes.length > MAX_JSON_FILE_BYTES) fail(`couldn't read the ${what} ${file}`, new Error(`it is over ${MAX_JSON_FILE_BYTES} bytes`));
  return bytes.toString('utf8');
}

function baseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

interface SignFlags { url: string; token?: string; email?: string; rekorV2?: boolean; out?: string; witnessed?: boolean; witnessWait: string; predicate?: string; predicateType?: string; subject?: string }
interface VerifyFlags { bundle: string; identity: string; issuer: string; predicateType?: string; url?: string; trustedRoot?: string; witnessPolicy?: string; witness: boolean; witnessWait: string }

// witnessedBundle waits for the log's witnesses (--witnessed): the bundle then carries a cosigned
// checkpoint and verifies offline. If they do not cosign in time, nothing is written.
async function witnessedBundle(file: string, bundle: BundleJson, opts: SignFlags, waitMs: number): Promise<BundleJson> {
  try {
    return await attachWitnessedCheckpoint(bundle, { url: baseUrl(opts.url), waitMs });
  } catch (err) {
    fail(`${file} was signed and logged (log index ${bundle.verificationMaterial.tlogEntries[0]!.logIndex}), but its witnessing could not be attached; no bundle written`, err);
  }
}

// attestationOf reads --predicate FILE and --predicate-type (both or neither) into an attestation
// about FILE, named --subject or FILE's base name; signArtifact checks the values.
function attestationOf(file: string, opts: SignFlags): Attestation | undefined {
  if (opts.predicate === undefined && opts.predicateType === undefined) {
    if (opts.subject !== undefined) fail('bad option', new Error('--subject names the subject of an attestation: give --predicate and --predicate-type too'));
    return undefined;
  }
  if (opts.predicate === undefined || opts.predicateType === undefined) fail('bad option', new Error('an attestation needs both --predicate FILE and --predicate-type URI'));
  const text = readJsonFile(opts.predicate, 'predicate');
  let predicate: unknown;
  try {
    predicate = JSON.parse(text);
  } catch (err) {
    fail(`couldn't read the predicate ${opts.predicate}`, new Error(`it is not JSON: ${err instanceof Error ? err.message : String(err)}`));
  }
  return { subjectName: opts.subject ?? basename(file), predicateType: opts.predicateType, predicate: predicate as Record<string, unknown> };
}

async function runSign(file: string, opts: SignFlags): Promise<void> {
  const artifact = readFile(file, 'artifact');
  const waitMs = witnessWaitMs(opts.witnessWait);
  const token = opts.token ?? process.env.VIGIL_ID_TOKEN;
  const attestation = attestationOf(file, opts);
  let bundle: BundleJson;
  try {
    bundle = await signArtifact(artifact, {
      url: baseUrl(opts.url), ...(token ? { token } : {}), ...(opts.email ? { email: opts.email } : {}), rekorV2: opts.rekorV2 === true, ...(attestation ? { attestation } : {}),
    });
  } catch (err) {
    fail(`couldn't sign ${file}`, err);
  }
  if (opts.witnessed === true) bundle = await witnessedBundle(file, bundle, opts, waitMs);
  const out = opts.out ?? `${file}.sigstore.json`;
  try {
    writeFileSync(out, `${JSON.stringify(bundle, null, 2)}\n`);
  } catch (err) {
    fail(`couldn't write the bundle ${out}`, err);
  }
  const entry = bundle.verificationMaterial.tlogEntries[0]!;
  const witnessed = opts.witnessed === true ? `; witnessed in checkpoint size ${entry.inclusionProof.treeSize}` : '';
  const what = attestation ? `an attestation (${attestation.predicateType}) about ${file}` : file;
  process.stdout.write(`signed ${what}: log index ${entry.logIndex}${witnessed}; bundle written to ${out}\n`);
}

// witnessPolicyText is the policy `vigil verify` enforces: the file, else the log's (trust on first use).
async function witnessPolicyText(opts: VerifyFlags): Promise<{ text: string; from: string }> {
  if (opts.witnessPolicy !== undefined) return { text: readFile(opts.witnessPolicy, 'witness policy').toString('utf8'), from: opts.witnessPolicy };
  if (opts.url === undefined) fail('couldn\'t verify', new Error('no witness policy: give --witness-policy FILE, or --url to fetch the log\'s, or --no-witness to skip witnessing'));
  try {
    return { text: await fetchWitnessPolicy(baseUrl(opts.url)), from: `${baseUrl(opts.url)}/api/v2/witness-policy, trust on first use` };
  } catch (err) {
    fail('couldn\'t get the witness policy', err);
  }
}

function witnessWaitMs(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text)) fail('bad option', new Error(`--witness-wait: want whole seconds, got ${JSON.stringify(text)}`));
  return Number(text) * 1000;
}

async function checkWitnessed(verified: VerifiedBundle, opts: VerifyFlags): Promise<string> {
  if (!opts.witness) {
    process.stderr.write('vigil: warning: --no-witness: the witness policy is not enforced; a log could show you a fork that no witness saw\n');
    return 'witnessing NOT checked (--no-witness)';
  }
  const waitMs = witnessWaitMs(opts.witnessWait);
  const policy = await witnessPolicyText(opts);
  const url = opts.url === undefined ? {} : { url: baseUrl(opts.url) };
  const witnessed = await verifyBundleWitnessed(verified, { policyText: policy.text, ...url, waitMs });
  const how = witnessed.map((w) => `size ${w.size} cosigned by ${w.cosigners.length === 0 ? 'no witness (policy: quorum none)' : w.cosigners.join(', ')} (${w.source === 'bundle' ? 'in the bundle' : 'published by the log'})`);
  return `witnessed: checkpoint ${how.join('; ')}; policy from ${policy.from}`;
}

async function runVerify(file: string, opts: VerifyFlags): Promise<void> {
  if (opts.url === undefined && opts.trustedRoot === undefined) fail('couldn\'t verify', new Error('give --trusted-root or --url (or both)'));
  const artifact = readFile(file, 'artifact');
  const bundle = readJsonFile(opts.bundle, 'bundle');
  let rootText: string;
  try {
    rootText = opts.trustedRoot !== undefined ? readJsonFile(opts.trustedRoot, 'trusted root') : await fetchTrustedRoot(baseUrl(opts.url!));
  } catch (err) {
    fail('couldn\'t get the trusted root', err);
  }
  try {
    const policy = { identityRegex: opts.identity, issuer: opts.issuer, ...(opts.predicateType !== undefined ? { predicateType: opts.predicateType } : {}) };
    const verified = verifyBundle(artifact, bundle, parseTrustedRoot(rootText), policy);
    const witnessed = await checkWitnessed(verified, opts);
    const times = verified.times.map((t) => t.toISOString()).join(', ');
    const what = verified.predicateType === undefined ? '' : ` (attestation ${verified.predicateType})`;
    process.stdout.write(`verified ${file}${what}: signed by ${verified.identity} (issuer ${verified.issuer}) at ${times}; log index ${verified.logIndexes.join(', ')}; ${witnessed}\n`);
  } catch (err) {
    fail(`verification of ${file} failed`, err);
  }
}

/**
 * registerSignCommands adds `vigil sign FILE` (writes FILE.sigstore.json, a Sigstore v0.3 bundle)
 * and `vigil verify FILE --bundle B --identity REGEX --issuer URL` (which also enforces the log's
 * witness policy, witnessed.ts). Both exit non-zero with the reason on standard error when they fail.
 */
export function registerSignCommands(program: Command): void {
  program
    .command('sign')
    .description('sign FILE with a short-lived certificate for your OIDC identity and log it; writes FILE.sigstore.json')
    .argument('<file>', 'the artifact to sign')
    .option('--url <url>', 'Vigil front end (CA, log, TSA)', DEFAULT_VIGIL_URL)
    .option('--token <jwt>', 'OIDC ID token (default: $VIGIL_ID_TOKEN, else the development issuer with --email)')
    .option('--email <address>', 'ask the development issuer at <url>/oidc/token for a token for this address')
    .option('--rekor-v2', 'log through the Rekor v2 API and add an RFC 3161 timestamp from <url>/api/v1/timestamp')
    .option('--out <file>', 'where to write the bundle (default: FILE.sigstore.json)')
    .option('--witnessed', 'wait until the log\'s witnesses cosigned the entry and put that checkpoint in the bundle (verifies offline)')
    .option('--witness-wait <seconds>', 'how long --witnessed waits', String(DEFAULT_WITNESS_WAIT_MS / 1000))
    .option('--predicate <file>', 'sign an attestation instead: an in-toto statement about FILE with this JSON predicate, in a DSSE envelope')
    .option('--predicate-type <uri>', 'the predicate\'s type URI, e.g. https://slsa.dev/provenance/v1 (with --predicate)')
    .option('--subject <name>', 'the subject name in the statement, e.g. a purl (default: FILE\'s base name)')
    .action(runSign);

  program
    .command('verify')
    .description('verify FILE against its Sigstore bundle: chain, SCT, log inclusion, witness cosignatures, timestamps, signature, identity')
    .argument('<file>', 'the signed artifact')
    .requiredOption('--bundle <file>', 'the bundle (FILE.sigstore.json)')
    .requiredOption('--identity <regex>', 'the signer identity (email or URI); always matched whole (^…$)')
    .requiredOption('--issuer <url>', 'the OIDC issuer, matched exactly')
    .option('--predicate-type <uri>', 'require an in-toto attestation about FILE of exactly this predicate type')
    .option('--url <url>', 'the log: its published cosigned checkpoint and tiles; also the trusted root and witness policy when no file is given (trust on first use)')
    .option('--trusted-root <file>', 'a trusted_root.json kept from earlier (preferred)')
    .option('--witness-policy <file>', 'the log\'s witness policy (tlog-policy) kept beside trusted_root.json (preferred; default: <url>/api/v2/witness-policy)')
    .option('--witness-wait <seconds>', 'how long to wait for the log to publish a cosigned checkpoint covering the bundle\'s', String(DEFAULT_WITNESS_WAIT_MS / 1000))
    .option('--no-witness', 'do not enforce the witness policy (prints a warning)')
    .action(runVerify);
}
