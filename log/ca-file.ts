// The operator's CA file (`vigil log serve --ca-roots FILE`): PEM CERTIFICATE blocks, the roots and
// intermediates that signing certificates must chain to. A self-signed certificate (issuer = subject
// and its own key verifies it) is a root; any other is an intermediate. Loaded once at start-up.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeBase64 } from '../tlog/base64.ts';
import { errorMessage, LogError } from './errors.ts';
import { loadCertificateTrust, type CertificateTrust, type CertificateTrustConfig } from './kinds/certificate-chain.ts';

/** MAX_CA_CERTIFICATES bounds the certificates of a CA file. */
export const MAX_CA_CERTIFICATES = 64;

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/**
 * parseCaPem splits PEM text into roots and intermediates (DER). Throws LogError 'invalid_config'
 * for a file with no CERTIFICATE block, another block type, bad base64 or an unparsable certificate.
 */
export function parseCaPem(text: string, file: string): CertificateTrustConfig {
  const roots: Uint8Array[] = [];
  const intermediates: Uint8Array[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const n = roots.length + intermediates.length;
    if (m[1] !== 'CERTIFICATE') throw new LogError('invalid_config', `${file}: block ${n} is ${m[1]}, not CERTIFICATE`);
    if (n >= MAX_CA_CERTIFICATES) throw new LogError('invalid_config', `${file}: more than ${MAX_CA_CERTIFICATES} certificates`);
    let der: Uint8Array;
    let cert: X509Certificate;
    try {
      der = decodeBase64(m[2]!.replace(/\s+/g, ''), `${file} certificate ${n}`);
      cert = new X509Certificate(der);
    } catch (err) {
      throw new LogError('invalid_config', `${file}: certificate ${n} does not parse: ${errorMessage(err)}`, { cause: err });
    }
    (cert.checkIssued(cert) && cert.verify(cert.publicKey) ? roots : intermediates).push(der);
  }
  if (roots.length + intermediates.length === 0) throw new LogError('invalid_config', `${file} holds no PEM CERTIFICATE block`);
  return { roots, intermediates };
}

/** readCaFile reads the CA file into DER roots and intermediates (parseCaPem); 'invalid_config'. */
export function readCaFile(file: string): CertificateTrustConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LogError('invalid_config', `couldn't read the CA file ${file}: ${errorMessage(err)}`, { cause: err });
  }
  return parseCaPem(text, file);
}

/** loadCaFile reads and checks the CA file (loadCertificateTrust's rules); 'invalid_config'. */
export function loadCaFile(file: string): CertificateTrust {
  return loadCertificateTrust(readCaFile(file));
}
