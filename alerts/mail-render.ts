// The words of every mail, as a plain-text part and an HTML part. Values from findings arrive
// cleaned (finding-facts.ts) and are HTML-escaped here; nothing attacker-controlled is ever
// markup, a link target or a header other than through nodemailer's encoding of Subject.
import type { FindingFacts } from './finding-facts.ts';

/** MailContent is one mail's subject and two parts. */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

/** AlertLinks are the links every alert mail carries. */
export interface AlertLinks {
  manageUrl: string;
  unsubscribeUrl: string;
}

/** RenderedAlert is one finding as an alert shows it, with the rule that matched. */
export interface RenderedAlert {
  facts: FindingFacts;
  /** rule describes the rule or policy that matched, e.g. `identity exact "alice@example.com"`; empty for log alerts. */
  rule: string;
}

/** escapeHtml escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CLASS_WORDS = {
  signer: { tag: '[vigil alert]', intro: 'A signing event matched one of your watch rules.' },
  'log-security': { tag: '[vigil LOG SECURITY]', intro: 'A transparency log you follow misbehaved. This is about the log itself, not about a signer: a log that signs two histories or a bad signature may be hiding entries from monitors.' },
  'log-health': { tag: '[vigil log health]', intro: 'A monitoring gap: the monitor could not check a log you follow. This is not by itself a sign of an attack; alerts for entries in that log wait until it is reachable again.' },
} as const;

/** renderAlertMail is the mail for one finding. */
export function renderAlertMail(a: RenderedAlert, links: AlertLinks): MailContent {
  const words = a.facts.kind === 'unexpected-signer'
    ? { tag: CLASS_WORDS.signer.tag, intro: 'Someone outside the expected signers of your policy signed for a namespace it covers.' }
    : CLASS_WORDS[a.facts.alertClass];
  return {
    subject: `${words.tag} ${a.facts.headline}`.slice(0, 200),
    text: [a.facts.headline, '', words.intro, '', alertText(a), '', footerText(links)].join('\n'),
    html: page(`<p><strong>${escapeHtml(a.facts.headline)}</strong></p><p>${escapeHtml(words.intro)}</p>${alertHtml(a)}${footerHtml(links)}`),
  };
}

/** renderDigestMail groups alerts into one mail; period is "hour" or "day". */
export function renderDigestMail(alerts: readonly RenderedAlert[], period: string, links: AlertLinks): MailContent {
  const n = alerts.length;
  const security = alerts.filter((a) => a.facts.alertClass === 'log-security').length;
  const title = `${n} alert${n === 1 ? '' : 's'} in the last ${period}${security > 0 ? ` (${security} about log security)` : ''}`;
  const text = alerts.map((a, i) => `${i + 1}. ${CLASS_WORDS[a.facts.alertClass].tag} ${a.facts.headline}\n\n${alertText(a)}`).join('\n\n----\n\n');
  const html = alerts.map((a, i) => `<h3>${i + 1}. ${escapeHtml(CLASS_WORDS[a.facts.alertClass].tag)} ${escapeHtml(a.facts.headline)}</h3>${alertHtml(a)}`).join('<hr>');
  return {
    subject: `[vigil digest] ${title}`,
    text: [title, '', text, '', footerText(links)].join('\n'),
    html: page(`<p><strong>${escapeHtml(title)}</strong></p>${html}${footerHtml(links)}`),
  };
}

/** renderConfirmMail asks the owner of the address to confirm a subscription request. */
export function renderConfirmMail(confirmUrl: string, summary: readonly string[]): MailContent {
  const why = 'Someone (we hope you) asked Vigil to send alerts about signing events to this address. Nothing is sent until you open the link below and press the confirm button. If it was not you, ignore this mail: without confirmation you get nothing more.';
  return {
    subject: '[vigil] Confirm your alert subscription',
    text: [why, '', 'The request asks to watch:', ...summary.map((s) => `  - ${s}`), '', `Confirm: ${confirmUrl}`, '', 'The link works for a limited time.'].join('\n'),
    html: page(`<p>${escapeHtml(why)}</p><p>The request asks to watch:</p><ul>${summary.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('')}</ul><p><a href="${escapeHtml(confirmUrl)}">Open the confirmation page</a></p>`),
  };
}

/** renderManageLinkMail sends a link to the manage page (asked for on the subscribe page). */
export function renderManageLinkMail(manageUrl: string): MailContent {
  const why = 'Someone (we hope you) asked for a link to manage the Vigil alerts sent to this address. If it was not you, ignore this mail.';
  return {
    subject: '[vigil] Manage your alerts',
    text: [why, '', `Manage: ${manageUrl}`].join('\n'),
    html: page(`<p>${escapeHtml(why)}</p><p><a href="${escapeHtml(manageUrl)}">Manage your alerts</a></p>`),
  };
}

/** renderTestMail is the test alert a subscriber asks for on the manage page. */
export function renderTestMail(links: AlertLinks): MailContent {
  const line = 'This is a test alert you asked for: mail from Vigil reaches you.';
  return { subject: '[vigil test] Test alert', text: [line, '', footerText(links)].join('\n'), html: page(`<p>${escapeHtml(line)}</p>${footerHtml(links)}`) };
}

function alertText(a: RenderedAlert): string {
  const width = Math.max(...a.facts.facts.map(([l]) => l.length), 'rule matched'.length);
  const rows = a.facts.facts.map(([l, v]) => `${`${l}:`.padEnd(width + 2)}${v}`);
  if (a.rule) rows.push(`${'rule matched:'.padEnd(width + 2)}${a.rule}`);
  if (a.facts.reason) rows.push(`${'why:'.padEnd(width + 2)}${a.facts.reason}`);
  if (a.facts.entryUrl) rows.push('', `Entry with its inclusion proof: ${a.facts.entryUrl}`);
  if (a.facts.evidence) rows.push('', 'Evidence:', a.facts.evidence);
  rows.push('', howToMarkExpected(a));
  return rows.join('\n');
}

function alertHtml(a: RenderedAlert): string {
  const rows = [...a.facts.facts];
  if (a.rule) rows.push(['rule matched', a.rule]);
  if (a.facts.reason) rows.push(['why', a.facts.reason]);
  const table = `<table>${rows.map(([l, v]) => `<tr><th align="left">${escapeHtml(l)}</th><td><code>${escapeHtml(v)}</code></td></tr>`).join('')}</table>`;
  const link = a.facts.entryUrl ? `<p><a href="${escapeHtml(a.facts.entryUrl)}">The entry with its inclusion proof</a></p>` : '';
  const evidence = a.facts.evidence ? `<p>Evidence:</p><pre>${escapeHtml(a.facts.evidence)}</pre>` : '';
  return `${table}${link}${evidence}<p>${escapeHtml(howToMarkExpected(a))}</p>`;
}

function howToMarkExpected(a: RenderedAlert): string {
  if (a.facts.alertClass !== 'signer') return 'Log alerts cannot be marked expected; choose the logs you follow on the manage page.';
  if (a.facts.signer) return 'If this signer is legitimate, open the manage page and press "mark expected" next to this alert: the signer is added to your policy and such entries stop alerting.';
  return 'This rule reports every use. To be told only about unexpected signers, replace it with an expected-signer policy on the manage page.';
}

function footerText(links: AlertLinks): string {
  return ['--', `Manage your alerts (rules, digests, test alert, mark expected): ${links.manageUrl}`, `Unsubscribe: ${links.unsubscribeUrl}`].join('\n');
}

function footerHtml(links: AlertLinks): string {
  return `<hr><p><a href="${escapeHtml(links.manageUrl)}">Manage your alerts</a> (rules, digests, test alert, mark expected) · <a href="${escapeHtml(links.unsubscribeUrl)}">Unsubscribe</a></p>`;
}

function page(body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body style="font-family: sans-serif">${body}</body></html>`;
}
