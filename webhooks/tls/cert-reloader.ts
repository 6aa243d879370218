import { EventEmitter } from 'node:events';
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** A certificate and its key, PEM. */
export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

/** Reads a key pair and checks that the key matches the certificate (createSecureContext does). */
export function readKeyPair(certFile: string, keyFile: string): KeyPair {
  const pair = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  createSecureContext(pair);
  return pair;
}

/**
 * Watches a certificate and key and hands a new pair to `apply` when either file changes (a mounted
 * Secret is rotated by swapping a symlink, so the files are polled by path with fs.watchFile rather
 * than watched by inode). A pair that does not load (mid-rotation: new cert, old key) is skipped
 * and retried on the next change. Events: 'reload' (KeyPair) and 'reload-failed' (Error).
 */
export class CertReloader extends EventEmitter {
  private current: KeyPair;
  private readonly listener = (cur: Stats, prev: Stats) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) this.check();
  };

  constructor(
    private readonly certFile: string,
    private readonly keyFile: string,
    private readonly apply: (pair: KeyPair) => void,
    private readonly intervalMs = 2000,
  ) {
    super();
    this.current = readKeyPair(certFile, keyFile);
  }

  /** The pair in use. */
  get pair(): KeyPair {
    return this.current;
  }

  /** Starts watching both files. */
  start(): void {
    watchFile(this.certFile, { interval: this.intervalMs, persistent: false }, this.listener);
    watchFile(this.keyFile, { interval: this.intervalMs, persistent: false }, this.listener);
  }

  /** Stops watching. */
  stop(): void {
    unwatchFile(this.certFile, this.listener);
    unwatchFile(this.keyFile, this.listener);
  }

  /** Reloads now if the files hold a new, loadable pair. */
  check(): void {
    let next: KeyPair;
    try {
      next = readKeyPair(this.certFile, this.keyFile);
    } catch (e) {
      this.emit('reload-failed', e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (next.cert === this.current.cert && next.key === this.current.key) return;
    this.apply(next);
    this.current = next;
    this.emit('reload', next);
  }
}
