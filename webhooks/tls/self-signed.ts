import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/** File names written in the --self-signed directory. */
export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';
export const TLS_CERT_FILE = 'tls.crt';
export const TLS_KEY_FILE = 'tls.key';

const CA_DAYS = 3650;
const SERVING_DAYS = 365;

/** The names a Service is reached by in a cluster, plus loopback for local runs. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, 'localhost'];
}

/** The certificates --self-signed made: PEM texts and where they were written. */
export interface SelfSigned {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

function rsaKeys(): forge.pki.rsa.KeyPair {
  // Native key generation (milliseconds), then forge for the X.509 work it does well.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

function serial(): string {
  // A positive 128-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets).
  return '01' + randomBytes(16).toString('hex');
}

function validity(cert: forge.pki.Certificate, now: Date, days: number): void {
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
}

function makeCa(now: Date): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, now, CA_DAYS);
  const subject = [{ name: 'commonName', value: 'shorthorn-webhooks-ca' }, { name: 'organizationName', value: 'shorthorn.io' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey };
}

function readCa(dir: string): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } | undefined {
  try {
    const cert = forge.pki.certificateFromPem(readFileSync(join(dir, CA_CERT_FILE), 'utf8'));
    const key = forge.pki.privateKeyFromPem(readFileSync(join(dir, CA_KEY_FILE), 'utf8')) as forge.pki.rsa.PrivateKey;
    if (cert.validity.notAfter.getTime() < Date.now() + 30 * 86_400_000) return undefined;
    return { cert, key };
  } catch {
    return undefined;
  }
}

function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

/**
 * Creates (or reuses, when DIR holds a CA valid for 30 more days) a CA, and issues a new serving
 * certificate for `dnsNames` and 127.0.0.1 signed by it; writes ca.crt, ca.key, tls.crt, tls.key.
 */
export function ensureSelfSigned(dir: string, dnsNames: readonly string[], now = new Date()): SelfSigned {
  mkdirSync(dir, { recursive: true });
  const ca = readCa(dir) ?? makeCa(now);
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, now, SERVING_DAYS);
  cert.setSubject([{ name: 'commonName', value: dnsNames[0] ?? 'localhost' }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...dnsNames.map((value) => ({ type: 2, value })), { type: 7, ip: '127.0.0.1' }] },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  const out: SelfSigned = {
    caPem: forge.pki.certificateToPem(ca.cert),
    certPem: forge.pki.certificateToPem(cert),
    keyPem: forge.pki.privateKeyToPem(keys.privateKey),
    caFile: join(dir, CA_CERT_FILE),
    certFile: join(dir, TLS_CERT_FILE),
    keyFile: join(dir, TLS_KEY_FILE),
  };
  writeAtomic(join(dir, CA_KEY_FILE), forge.pki.privateKeyToPem(ca.key), 0o600);
  writeAtomic(out.caFile, out.caPem, 0o644);
  writeAtomic(out.keyFile, out.keyPem, 0o600);
  writeAtomic(out.certFile, out.certPem, 0o644);
  return out;
}
