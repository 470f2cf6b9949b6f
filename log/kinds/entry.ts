// entry.ts is what the write API calls: one request body in, one verified entry out (or a
// LogError). It is pure: no I/O, no clock (the integration time is given), no state.
//
//   POST /api/v1/log/entries  body = Rekor ProposedEntry {kind, apiVersion, spec}
//                             → parseProposedEntry: hashedrekord 0.0.1, dsse 0.0.1
//   POST /api/v2/log/entries  body = rekor-tiles CreateEntryRequest (protobuf JSON), one of
//                             {hashedRekordRequestV002} or {dsseRequestV002}
//                             → parseCreateEntryRequest: hashedrekord 0.0.2, dsse 0.0.2
//
// Every signature is verified, and every certificate chained to the operator's CA at the
// integration time, before an entry is returned. The canonical body is the leaf; two requests
// for the same entry give the same body and leaf hash, which is how duplicates are found.
import { LogError } from '../errors.ts';
import type { CertificateTrust } from './certificate-chain.ts';
import { parseDsseRequestV002, parseDsseV001 } from './dsse.ts';
import { parseHashedRekordRequestV002, parseHashedRekordV001 } from './hashedrekord.ts';
import { parseRequestJson, readObject, readString } from './request-json.ts';
import { finishEntry, MAX_ENTRY_BYTES, type EntryContext, type VerifiedContent, type VerifiedEntry } from './verified-entry.ts';

/** DEFAULT_MAX_REQUEST_BYTES is the default request body limit: 1 MiB, room for a DSSE attestation. */
export const DEFAULT_MAX_REQUEST_BYTES = 1 << 20;

/** EntryOptions configures parseProposedEntry and parseCreateEntryRequest. */
export interface EntryOptions {
  /** trust is the CA material certificates must chain to; null refuses certificate-signed entries. */
  readonly trust: CertificateTrust | null;
  /** integrationTime is when the entry is being accepted; certificates must be valid then. */
  readonly integrationTime: Date;
  /** maxRequestBytes limits the request body, in bytes. Default DEFAULT_MAX_REQUEST_BYTES. */
  readonly maxRequestBytes?: number;
  /** maxEntryBytes limits the canonical body, in bytes; at most (and by default) MAX_ENTRY_BYTES. */
  readonly maxEntryBytes?: number;
}

interface Limits {
  readonly ctx: EntryContext;
  readonly maxRequestBytes: number;
  readonly maxEntryBytes: number;
}

function limitsOf(options: EntryOptions): Limits {
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const maxEntryBytes = options.maxEntryBytes ?? MAX_ENTRY_BYTES;
  if (!Number.isSafeInteger(maxRequestBytes) || maxRequestBytes <= 0) {
    throw new LogError('invalid_config', `maxRequestBytes must be a positive integer, not ${maxRequestBytes}`);
  }
  if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes <= 0 || maxEntryBytes > MAX_ENTRY_BYTES) {
    throw new LogError('invalid_config', `maxEntryBytes must be a positive integer of at most ${MAX_ENTRY_BYTES}, not ${maxEntryBytes}`);
  }
  if (Number.isNaN(options.integrationTime.getTime())) throw new LogError('invalid_config', 'integrationTime is not a valid date');
  return { ctx: { trust: options.trust, integrationTime: options.integrationTime }, maxRequestBytes, maxEntryBytes };
}

const V1_KINDS: Readonly<Record<string, Readonly<Record<string, (spec: unknown, ctx: EntryContext) => VerifiedContent>>>> = {
  hashedrekord: { '0.0.1': parseHashedRekordV001 },
  dsse: { '0.0.1': parseDsseV001 },
};

/**
 * parseProposedEntry reads a Rekor v1 ProposedEntry body (attacker-controlled) and returns the
 * verified entry. Throws LogError: request_too_large, malformed_request, malformed_entry,
 * unsupported_kind, unsupported_algorithm, malformed_public_key, malformed_certificate,
 * invalid_signature, untrusted_certificate, entry_too_large; invalid_config for bad options.
 */
export function parseProposedEntry(body: Uint8Array | string, options: EntryOptions): VerifiedEntry {
  const limits = limitsOf(options);
  const top = readObject(parseRequestJson(body, limits.maxRequestBytes), '', ['kind', 'apiVersion', 'spec']);
  const kind = readString(top.kind, 'kind');
  const apiVersion = readString(top.apiVersion, 'apiVersion');
  const versions = Object.hasOwn(V1_KINDS, kind) ? V1_KINDS[kind]! : undefined;
  if (versions === undefined) {
    throw new LogError('unsupported_kind', `kind ${JSON.stringify(kind.slice(0, 64))} is not accepted (accepted: ${Object.keys(V1_KINDS).join(', ')})`);
  }
  const parse = Object.hasOwn(versions, apiVersion) ? versions[apiVersion] : undefined;
  if (parse === undefined) {
    throw new LogError('unsupported_kind', `${kind} apiVersion ${JSON.stringify(apiVersion.slice(0, 64))} is not accepted through the v1 API (accepted: ${Object.keys(versions).join(', ')})`);
  }
  return finishEntry(parse(top.spec, limits.ctx), limits.maxEntryBytes);
}

const V2_REQUESTS: Readonly<Record<string, (request: unknown, ctx: EntryContext) => VerifiedContent>> = {
  hashedRekordRequestV002: parseHashedRekordRequestV002,
  dsseRequestV002: parseDsseRequestV002,
};

/**
 * parseCreateEntryRequest reads a rekor-tiles v2 CreateEntryRequest body (attacker-controlled,
 * protobuf JSON with lowerCamelCase names and standard base64 bytes) holding exactly one of
 * hashedRekordRequestV002 and dsseRequestV002, and returns the verified entry. Throws as
 * parseProposedEntry does.
 */
export function parseCreateEntryRequest(body: Uint8Array | string, options: EntryOptions): VerifiedEntry {
  const limits = limitsOf(options);
  const top = readObject(parseRequestJson(body, limits.maxRequestBytes), '', 'any');
  const names = Object.keys(top);
  if (names.length !== 1) {
    const found = names.length === 0 ? 'none' : `${names.length} fields`;
    throw new LogError('malformed_request', `request must have exactly one of ${Object.keys(V2_REQUESTS).join(', ')}; it has ${found}`);
  }
  const name = names[0]!;
  const parse = Object.hasOwn(V2_REQUESTS, name) ? V2_REQUESTS[name] : undefined;
  if (parse === undefined) {
    throw new LogError('unsupported_kind', `request type ${JSON.stringify(name.slice(0, 64))} is not accepted (accepted: ${Object.keys(V2_REQUESTS).join(', ')})`);
  }
  return finishEntry(parse(top[name], limits.ctx), limits.maxEntryBytes);
}
