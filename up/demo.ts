// `vigil up --demo`: a small traffic generator in the same process, which uses only the public
// HTTP APIs, as outside users would:
//
// 1. A maintainer subscribes to alerts with an expected-signer policy for the package repository
//    https://github.com/demo/left-pad (only its release workflow, on tags, may sign), through
//    POST /alerts/api/v1/subscriptions, reads the confirmation mail in DIR/outbox and confirms with
//    POST /alerts/confirm, the same POST the confirmation page's button makes.
// 2. A few identities sign artifacts of their packages (log/bundle/sign.ts signArtifact: a token
//    from a development issuer, a certificate from the CA, an entry in the log): left-pad's and
//    is-odd's release workflows (GitHub-style tokens from a second development issuer at /oidc-ci,
//    mounted only with --demo) and carol@example.com (the /oidc issuer).
// 3. An unexpected identity, another workflow of the left-pad repository, signs a left-pad
//    artifact. The monitor finds it outside the policy; alerts mail the maintainer (a .eml file in
//    DIR/outbox) and the status page lists the finding, within a minute.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Router } from 'express';
import type { Clock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import { createDevOidcRouter } from '../log/ca/dev-oidc.ts';
import type { IssuerConfig } from '../log/ca/oidc.ts';
import { fetchDevToken, signArtifact } from '../log/bundle/sign.ts';
import { DEV_OIDC_CLIENT_ID, type FrontEndKeys } from '../log/front-end.ts';
import { UpError } from './errors.ts';

/** DEMO_CI_PATH is where `--demo` mounts its GitHub-style development issuer. */
export const DEMO_CI_PATH = '/oidc-ci';
/** DEMO_MAINTAINER is the address the demo subscribes (its mail lands in DIR/outbox). */
export const DEMO_MAINTAINER = 'maintainer@left-pad.example';
/** DEMO_PACKAGE_REPOSITORY is the namespace of the demo's expected-signer policy. */
export const DEMO_PACKAGE_REPOSITORY = 'https://github.com/demo/left-pad';
/** DEMO_UNEXPECTED_IDENTITY is the certificate identity of the signer the policy does not expect. */
export const DEMO_UNEXPECTED_IDENTITY = 'https://github.com/demo/left-pad/.github/workflows/sneaky.yml@refs/heads/main';
const STEP_TIMEOUT_MS = 30_000;
const POLL_MS = 200;

/** DemoIssuer is the demo's CI-style development issuer: its router and the CA's entry for it. */
export interface DemoIssuer {
  readonly issuer: IssuerConfig;
  readonly router: Router;
}

/** demoIssuer mounts a development issuer of GitHub-workflow kind at `<url>/oidc-ci` (loopback only). */
export function demoIssuer(url: string, keys: FrontEndKeys, clock: Clock): DemoIssuer {
  if (keys.devOidcKey === undefined) throw new UpError('invalid_config', 'the demo needs the development OIDC issuer key');
  const issuerUrl = `${url}${DEMO_CI_PATH}`;
  const router = createDevOidcRouter({ issuerUrl, pathPrefix: DEMO_CI_PATH, audience: DEV_OIDC_CLIENT_ID }, { key: keys.devOidcKey, clock });
  return { issuer: { issuerUrl, clientId: DEV_OIDC_CLIENT_ID, kind: 'github-workflow' }, router };
}

interface Workflow {
  repo: string;
  workflow: string;
  ref: string;
}

const SIGNERS: readonly (Workflow | { email: string })[] = [
  { repo: 'demo/left-pad', workflow: 'release.yml', ref: 'refs/tags/v1.4.0' },
  { repo: 'demo/is-odd', workflow: 'release.yml', ref: 'refs/tags/v3.0.1' },
  { email: 'carol@example.com' },
];
const UNEXPECTED: Workflow = { repo: 'demo/left-pad', workflow: 'sneaky.yml', ref: 'refs/heads/main' };

async function postJson(url: string, body: unknown, contentType = 'application/json'): Promise<Response> {
  const text = contentType === 'application/json' ? JSON.stringify(body) : String(body);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: text, signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  if (res.status < 200 || res.status > 299) throw new UpError('demo_failed', `${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return res;
}

// ciToken asks the demo issuer for a token shaped like a GitHub Actions one (the claims the CA
// turns into the certificate's identity and CI extensions).
async function ciToken(issuerUrl: string, w: Workflow): Promise<string> {
  const ref = `${w.repo}/.github/workflows/${w.workflow}@${w.ref}`;
  const claims = {
    repository: w.repo, repository_owner: w.repo.split('/')[0], ref: w.ref, sha: '0'.repeat(40), workflow: w.workflow,
    workflow_ref: ref, job_workflow_ref: ref, event_name: 'push', run_id: '1', run_attempt: '1', repository_visibility: 'public', runner_environment: 'github-hosted',
  };
  const res = await postJson(`${issuerUrl}/token`, { sub: `repo:${w.repo}:ref:${w.ref}`, claims });
  return ((await res.json()) as { id_token: string }).id_token;
}

/** decodeQuotedPrintable undoes a mail body's quoted-printable soft breaks and escapes (ASCII text). */
export function decodeQuotedPrintable(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function listMail(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
}

// confirmToken waits for a confirmation mail to DEMO_MAINTAINER among the files not in `before`.
async function confirmToken(outboxDir: string, before: ReadonlySet<string>, signal: AbortSignal): Promise<string> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (Date.now() < deadline && !signal.aborted) {
    for (const f of listMail(outboxDir).filter((n) => !before.has(n))) {
      const text = decodeQuotedPrintable(readFileSync(join(outboxDir, f), 'utf8'));
      const m = /\/confirm\?token=([A-Za-z0-9._~%-]+)/.exec(text);
      if (text.includes(DEMO_MAINTAINER) && m !== null) return decodeURIComponent(m[1]!);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new UpError('demo_failed', `no confirmation mail for ${DEMO_MAINTAINER} appeared in ${outboxDir}`);
}

/** DemoOptions say where the network runs, where its mail goes, and where it notes its subscription. */
export interface DemoOptions {
  readonly url: string;
  readonly ciIssuer: string;
  readonly outboxDir: string;
  /** subscribedFile records the issuer URL the demo subscribed with, so a restart does not ask again. */
  readonly subscribedFile: string;
}

async function subscribe(opts: DemoOptions, signal: AbortSignal): Promise<void> {
  const before = new Set(listMail(opts.outboxDir));
  const policy = {
    namespace: DEMO_PACKAGE_REPOSITORY,
    allowedSigners: [{ issuer: opts.ciIssuer, identity: { match: 'glob', pattern: `${DEMO_PACKAGE_REPOSITORY}/.github/workflows/release.yml@refs/tags/*` } }],
  };
  await postJson(`${opts.url}/alerts/api/v1/subscriptions`, { email: DEMO_MAINTAINER, policies: [policy], delivery: 'immediate' });
  const token = await confirmToken(opts.outboxDir, before, signal);
  await postJson(`${opts.url}/alerts/confirm`, `token=${encodeURIComponent(token)}`, 'application/x-www-form-urlencoded');
}

async function signAs(opts: DemoOptions, who: Workflow | { email: string }, rekorV2: boolean): Promise<string> {
  const token = 'email' in who ? await fetchDevToken(opts.url, who.email) : await ciToken(opts.ciIssuer, who);
  const name = 'email' in who ? `notes-${who.email}` : `${who.repo.split('/')[1]}-${who.ref.split('/').pop()}.tgz`;
  const bundle = await signArtifact(new TextEncoder().encode(`${name} ${Date.now()}`), { url: opts.url, token, rekorV2 });
  const identity = 'email' in who ? who.email : `https://github.com/${who.repo}/.github/workflows/${who.workflow}@${who.ref}`;
  return `${identity} signed ${name} (log index ${bundle.verificationMaterial.tlogEntries[0]!.logIndex})`;
}

async function runDemo(opts: DemoOptions, print: (line: string) => void, signal: AbortSignal): Promise<void> {
  // The policy names the issuer URL, which holds the port: a restart on the same port keeps the
  // confirmed subscription (and stays under the alerts' per-address limit on confirmation mails).
  if (existsSync(opts.subscribedFile) && readFileSync(opts.subscribedFile, 'utf8') === opts.ciIssuer) {
    print(`demo: ${DEMO_MAINTAINER}'s subscription from an earlier run is in place`);
  } else {
    await subscribe(opts, signal);
    writeFileSync(opts.subscribedFile, opts.ciIssuer);
    print(`demo: ${DEMO_MAINTAINER} subscribed and confirmed: only left-pad's release workflow may sign for ${DEMO_PACKAGE_REPOSITORY}`);
  }
  let i = 0;
  for (const who of SIGNERS) {
    if (signal.aborted) return;
    print(`demo: ${await signAs(opts, who, i++ % 2 === 1)}`);
  }
  if (signal.aborted) return;
  print(`demo: unexpected: ${await signAs(opts, UNEXPECTED, false)}`);
  print(`demo: an alert to ${DEMO_MAINTAINER} appears in ${opts.outboxDir} and on ${opts.url}/ within a minute`);
}

/** startDemo runs the demo (see the top of this file) in the background; a failure is printed, not fatal. */
export function startDemo(opts: DemoOptions, deps: { logger: Logger; print?: ((line: string) => void) | undefined }): { stop(): Promise<void> } {
  const print = deps.print ?? (() => undefined);
  const stopping = new AbortController();
  const done = runDemo(opts, print, stopping.signal).catch((err: unknown) => {
    if (stopping.signal.aborted) return;
    deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'the demo failed');
    print(`demo: failed: ${err instanceof Error ? err.message : String(err)}`);
  });
  return {
    async stop() {
      stopping.abort();
      await done;
    },
  };
}
