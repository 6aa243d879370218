/**
 * Serial number arithmetic on 32-bit sequence numbers (RFC 7143 §4.2.2.1, RFC 1982): CmdSN,
 * StatSN, DataSN and R2TSN wrap, so "less than" is the sign of the 32-bit difference.
 */

/** a < b in serial arithmetic. */
export function snLess(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** lo ≤ sn ≤ hi in serial arithmetic. */
export function snInWindow(sn: number, lo: number, hi: number): boolean {
  return !snLess(sn, lo) && !snLess(hi, sn);
}

/** sn + n, wrapped to 32 bits. */
export function snAdd(sn: number, n: number): number {
  return (sn + n) >>> 0;
}
