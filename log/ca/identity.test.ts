// Token claims → certificate identity, per issuer kind (Fulcio's principals and ci-issuer-metadata).
import { describe, expect, it } from 'vitest';
import { isCaError } from './errors.ts';
import { principalOf } from './identity.ts';
import type { IssuerConfig } from './oidc.ts';

const issuer = (kind: IssuerConfig['kind'], extra: Partial<IssuerConfig> = {}): IssuerConfig => ({ issuerUrl: 'https://issuer.test', clientId: 'sigstore', kind, ...extra });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isCaError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

describe('principalOf', () => {
  it('maps a GitLab pipeline token like Fulcio', () => {
    const p = principalOf(issuer('gitlab-pipeline'), {
      sub: 'project_path:group/project:ref_type:tag:ref:v1',
      ci_config_ref_uri: 'gitlab.com/group/project//.gitlab-ci.yml@refs/tags/v1', ci_config_sha: 'd'.repeat(40),
      project_path: 'group/project', namespace_path: 'group', project_id: 12, namespace_id: 3, job_id: '77',
      ref: 'v1', ref_type: 'tag', sha: 'e'.repeat(40), pipeline_source: 'push', runner_environment: 'gitlab-hosted', project_visibility: 'public',
    });
    expect(p.san).toEqual({ type: 'uri', value: 'https://gitlab.com/group/project//.gitlab-ci.yml@refs/tags/v1' });
    expect(p.challenge).toBe('project_path:group/project:ref_type:tag:ref:v1');
    const ext = Object.fromEntries(p.claims.map((c) => [c.oid.split('.').at(-1), c.value]));
    expect(ext).toMatchObject({
      9: 'https://gitlab.com/group/project//.gitlab-ci.yml@refs/tags/v1', 12: 'https://gitlab.com/group/project',
      14: 'refs/tags/v1', 15: '12', 16: 'https://gitlab.com/group', 21: 'https://gitlab.com/group/project/-/jobs/77', 22: 'public',
    });
    expect(ext[23]).toBeUndefined();
  });

  it('maps URI subjects only under the subject domain', () => {
    const uri = issuer('uri', { subjectDomain: 'https://ci.example.com/' });
    expect(principalOf(uri, { sub: 'https://ci.example.com/pipelines/1' }).san).toEqual({ type: 'uri', value: 'https://ci.example.com/pipelines/1' });
    expect(codeOf(() => principalOf(uri, { sub: 'https://ci.example.com.evil.test/x' }))).toBe('identity_refused');
    expect(codeOf(() => principalOf(uri, { sub: 'not a uri' }))).toBe('identity_refused');
  });

  it('refuses tokens without what their kind needs', () => {
    expect(codeOf(() => principalOf(issuer('email'), { sub: 'x' }))).toBe('identity_refused');
    expect(codeOf(() => principalOf(issuer('email'), { email: 'a@b.test', email_verified: 'false' }))).toBe('email_not_verified');
    expect(principalOf(issuer('email', { skipEmailVerification: true }), { email: 'a@b.test' }).challenge).toBe('a@b.test');
    expect(codeOf(() => principalOf(issuer('github-workflow'), { sub: 'repo:o/r' }))).toBe('identity_refused');
    expect(codeOf(() => principalOf(issuer('github-workflow'), { sub: 'x', job_workflow_ref: 'a'.repeat(2000) }))).toBe('identity_refused');
    expect(codeOf(() => principalOf(issuer('github-workflow'), { sub: { not: 'a string' } as unknown as string, job_workflow_ref: 'o/r/.github/workflows/w.yml@refs/heads/main' }))).toBe('identity_refused');
  });

  it('refuses identities a certificate name (IA5String) cannot carry: non-ASCII, spaces, controls', () => {
    const email = issuer('email', { skipEmailVerification: true });
    // U+0140 would be encoded as its low byte 0x40, "@": the certificate would name another address.
    for (const value of ['jos\u00e9@b.test', 'a\u0140b.test@c.test', 'a b@c.test', 'a\n@b.test']) {
      expect(codeOf(() => principalOf(email, { email: value }))).toBe('identity_refused');
    }
    const gh = issuer('github-workflow');
    expect(codeOf(() => principalOf(gh, { sub: 'repo:o/r', job_workflow_ref: 'o/r/.github/workflows/w.yml@refs/heads/caf\u00e9' }))).toBe('identity_refused');
    expect(principalOf(gh, { sub: 'repo:o/r', job_workflow_ref: 'o/r/.github/workflows/w.yml@refs/heads/main' }).san.value).toBe('https://github.com/o/r/.github/workflows/w.yml@refs/heads/main');
  });
});
