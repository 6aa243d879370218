import { createServer } from 'node:net';

/** Can we bind host:port right now? (Checked just before a child is given the port.) */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * Picks `count` ports from [lo, hi] that no child holds and that bind now, starting after the
 * last port handed out so that a port just released is not reused at once. Undefined when the
 * range is exhausted.
 */
export class PortAllocator {
  private next: number;
  constructor(
    private readonly host: string,
    private readonly lo: number,
    private readonly hi: number,
  ) {
    this.next = lo;
  }

  async take(count: number, inUse: ReadonlySet<number>): Promise<number[] | undefined> {
    const out: number[] = [];
    const span = this.hi - this.lo + 1;
    for (let i = 0; i < span && out.length < count; i++) {
      const p = this.next;
      this.next = p >= this.hi ? this.lo : p + 1;
      if (inUse.has(p) || out.includes(p)) continue;
      if (await isPortFree(this.host, p)) out.push(p);
    }
    return out.length === count ? out : undefined;
  }
}
