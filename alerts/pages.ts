// The server-rendered pages (no scripts, no build step). Every value is HTML-escaped; links that
// carry tokens are only ever POST forms, so a link scanner that fetches a page changes nothing.
import { escapeHtml as h } from './mail-render.ts';
import type { ManageView } from './manage.ts';

const STYLE = 'body{font-family:sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.4}textarea,input[type=text],input[type=email],input[type=url]{width:100%;box-sizing:border-box}label{display:block;margin-top:.8rem;font-weight:bold}fieldset{margin-top:1rem}.hp{display:none}code{word-break:break-all}';

/** layout wraps a page body. */
export function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer"><title>${h(title)}</title><style>${STYLE}</style></head><body><h1>${h(title)}</h1>${body}</body></html>`;
}

/** subscribePage is the subscribe form, and the form that asks for a manage link. */
export function subscribePage(base: string): string {
  return layout('Vigil alerts', `
<p>Get a mail when your identity, namespace or key shows up in a transparency log, or when someone outside your expected signers signs for your namespace. You confirm by mail first.</p>
<form method="post" action="${h(base)}/subscribe">
<label for="email">Email address</label><input type="email" id="email" name="email" required maxlength="254">
<label for="identities">Identities to watch (one per line: an email or a CI identity URI; * is a wildcard; regex: for a regex)</label><textarea id="identities" name="identities" rows="3"></textarea>
<label for="issuer">OIDC issuer of those identities (optional)</label><input type="text" id="issuer" name="issuer">
<label for="namespaces">Namespaces to watch (one per line: a repository URL, a purl such as pkg:npm/name, an email domain)</label><textarea id="namespaces" name="namespaces" rows="3"></textarea>
<label for="keys">Key fingerprints to watch (SHA-256, hex, one per line)</label><textarea id="keys" name="keys" rows="2"></textarea>
<fieldset><legend>Optional expected-signer policy: alert only when someone else signs for a namespace</legend>
<label for="policy_namespace">Namespace</label><input type="text" id="policy_namespace" name="policy_namespace">
<label for="policy_issuer">Allowed signer's OIDC issuer</label><input type="text" id="policy_issuer" name="policy_issuer">
<label for="policy_identity">Allowed signer's identity (* is a wildcard)</label><input type="text" id="policy_identity" name="policy_identity">
<label for="policy_workflow">Workflow (optional, e.g. org/repo/.github/workflows/release.yml)</label><input type="text" id="policy_workflow" name="policy_workflow">
<label for="policy_ref">Ref (optional glob, e.g. refs/tags/*)</label><input type="text" id="policy_ref" name="policy_ref">
</fieldset>
<label for="delivery">Delivery</label><select id="delivery" name="delivery"><option value="immediate">each alert at once</option><option value="hourly">hourly digest</option><option value="daily">daily digest</option></select>
<label><input type="checkbox" name="follow_all_logs" value="1" checked> Also tell me when a log misbehaves or cannot be checked (every log)</label>
<div class="hp"><label for="website">Leave this empty</label><input type="text" id="website" name="website" tabindex="-1" autocomplete="off"></div>
<p><button type="submit">Send me a confirmation mail</button></p>
</form>
<h2>Already subscribed?</h2>
<form method="post" action="${h(base)}/manage-link"><label for="m_email">Email address</label><input type="email" id="m_email" name="email" required maxlength="254"><p><button type="submit">Mail me a link to manage my alerts</button></p></form>`);
}

/** messagePage is a page with one paragraph (and an optional link). */
export function messagePage(title: string, text: string, link?: { href: string; label: string }): string {
  return layout(title, `<p>${h(text)}</p>${link ? `<p><a href="${h(link.href)}">${h(link.label)}</a></p>` : ''}`);
}

/** buttonPage is a page whose only action is a POST of the token: confirm or unsubscribe. */
export function buttonPage(title: string, text: string, action: string, token: string, button: string): string {
  return layout(title, `<p>${h(text)}</p><form method="post" action="${h(action)}"><input type="hidden" name="token" value="${h(token)}"><button type="submit">${h(button)}</button></form>`);
}

/** managePage shows a subscription and the forms that change it. */
export function managePage(base: string, token: string, v: ManageView, notice?: string): string {
  const t = `<input type="hidden" name="token" value="${h(token)}">`;
  const form = (path: string, inner: string, button: string) => `<form method="post" action="${h(base)}/manage/${path}">${t}${inner}<button type="submit">${h(button)}</button></form>`;
  const specs = { rules: v.rules.map(({ id: _i, subscriberId: _s, ...r }) => r), policies: v.policies.map(({ id: _i, subscriberId: _s, ...p }) => p) };
  const s = v.subscriber;
  if (s.state !== 'confirmed') return layout('Your Vigil alerts', `<p>The subscription of <code>${h(s.email)}</code> is ${h(s.state)}. <a href="${h(base)}/">Subscribe again</a>.</p>`);
  const alerts = v.alerts.map((a) => `<li id="alert-${a.seq}"><code>${h(a.observedAt.toISOString())}</code> ${h(a.headline)}${a.markable ? form('expected', `<input type="hidden" name="alert" value="${a.seq}">`, 'mark expected (add this signer to the policy)') : ''}</li>`).join('');
  const hooks = v.webhooks.map((w) => `<li><code>${h(w.url)}</code> secret <code>${h(w.secret)}</code>${w.disabledReason ? ` <strong>disabled: ${h(w.disabledReason)}</strong>` : ''}${form('webhooks/remove', `<input type="hidden" name="id" value="${h(w.id)}">`, 'remove')}</li>`).join('');
  const problems = v.problems.map((p) => `<li>${h(p.kind)} ${h(p.channel)} ${p.state === 'unknown' ? 'may not have arrived' : 'failed'} (${h(p.at.toISOString())}): ${h(p.error ?? '')}</li>`).join('');
  return layout('Your Vigil alerts', `${notice ? `<p><strong>${h(notice)}</strong></p>` : ''}
<p>Alerts go to <code>${h(s.email)}</code>.</p>
<h2>Recent alerts</h2>${alerts ? `<ul>${alerts}</ul>` : '<p>None yet.</p>'}
${problems ? `<h2>Delivery problems</h2><ul>${problems}</ul>` : ''}
<h2>Rules and policies</h2>${form('rules', `<label for="rules">Watch rules and expected-signer policies (JSON: {"rules": [{"target", "match", "pattern", "issuer"?}], "policies": [{"namespace", "allowedSigners"}]})</label><textarea id="rules" name="rules" rows="12">${h(JSON.stringify(specs, null, 2))}</textarea>`, 'save rules')}
<h2>Delivery</h2>${form('delivery', `<select name="delivery">${['immediate', 'hourly', 'daily'].map((d) => `<option value="${d}"${d === s.delivery ? ' selected' : ''}>${d === 'immediate' ? 'each alert at once' : `${d} digest`}</option>`).join('')}</select><label for="logs">Logs whose misbehaviour and health alerts you get (one origin per line, * for every log)</label><textarea id="logs" name="logs" rows="2">${h(s.followLogs.join('\n'))}</textarea>`, 'save delivery')}
<h2>Webhooks</h2>${hooks ? `<ul>${hooks}</ul>` : ''}${form('webhooks', '<label for="url">Webhook URL</label><input type="url" id="url" name="url" required>', 'add webhook')}
<h2>Test</h2>${form('test', '', 'send me a test alert')}
<h2>Unsubscribe</h2>${form('unsubscribe', '', 'unsubscribe from all alerts')}`);
}
