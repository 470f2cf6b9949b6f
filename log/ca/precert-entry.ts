// precert-entry.ts is how a precertificate is "logged" in Vigil's log (docs/ca.md, "Certificates
// are logged"): one entry whose canonical body is RFC 8785 JSON in Rekor's envelope,
//
//   {"apiVersion":"0.0.1","kind":"precertificate",
//    "spec":{"chain":["<b64 DER intermediate>","<b64 DER root>"],
//            "precertificate":"<b64 DER precertificate>","timestamp":<SCT timestamp, ms>}}
//
// It carries what RFC 6962 §3.1 puts in a PrecertChainEntry (the precertificate and its chain up
// to the root) plus the SCT's timestamp, so that the entry, the issuer's SPKI and the precertificate
// TBS minus the poison extension are exactly the SCT's signed data (sct.ts): the final certificate's
// embedded SCT is a promise this entry keeps. The log's write API does not accept this kind; only
// the CA appends it, through Log.addEntry, before it signs the SCT.
import { encodeBase64 } from '../../tlog/base64.ts';
import { canonicalizeJson } from '../kinds/canonical-json.ts';

/** PRECERTIFICATE_KIND and PRECERTIFICATE_API_VERSION name the entry kind. */
export const PRECERTIFICATE_KIND = 'precertificate';
export const PRECERTIFICATE_API_VERSION = '0.0.1';

/** PrecertificateEntry is what one precertificate entry records. */
export interface PrecertificateEntry {
  /** precertificate is the DER precertificate (with the CT poison extension). */
  readonly precertificate: Uint8Array;
  /** chain is the issuing chain, issuer first, up to and including the root (DER). */
  readonly chain: readonly Uint8Array[];
  /** timestampMs is the SCT's timestamp, in milliseconds since the epoch. */
  readonly timestampMs: number;
}

/** formatPrecertificateEntry returns the canonical body (the exact leaf bytes) of a precertificate entry. */
export function formatPrecertificateEntry(e: PrecertificateEntry): Uint8Array {
  return canonicalizeJson({
    apiVersion: PRECERTIFICATE_API_VERSION,
    kind: PRECERTIFICATE_KIND,
    spec: {
      chain: e.chain.map((c) => encodeBase64(c)),
      precertificate: encodeBase64(e.precertificate),
      timestamp: e.timestampMs,
    },
  });
}
