import { AmuletError } from '@amulet/bytes';

/**
 * One BIN range: every PAN whose first `low.length` digits lie between `low` and `high`
 * (inclusive, same length, 6 to 11 digits) goes to `destination`. `kind: 'token'` marks a token
 * BIN range (EMVCo Payment Tokenisation 4.1): its PANs are DPANs that the token service turns
 * back into the real PAN before an issuer is chosen.
 */
export interface BinRange {
  readonly low: string;
  readonly high: string;
  readonly kind: 'token' | 'issuer';
  readonly destination: string;
}

export class RoutingError extends AmuletError {}

/** Ranges sorted longest prefix first, then narrowest, so a narrower range wins over one that contains it. */
export class RoutingTable {
  readonly #ranges: readonly BinRange[];

  constructor(ranges: readonly BinRange[]) {
    for (const [i, range] of ranges.entries()) {
      if (
        !/^[0-9]{6,11}$/.test(range.low) ||
        range.high.length !== range.low.length ||
        !/^[0-9]+$/.test(range.high)
      )
        throw new RoutingError(
          'ERR_ROUTING_RANGE',
          `range ${i}: low and high must be 6 to 11 digits of one length`,
        );
      if (range.low > range.high)
        throw new RoutingError('ERR_ROUTING_RANGE', `range ${i}: low is above high`);
      if (range.destination.length === 0)
        throw new RoutingError('ERR_ROUTING_RANGE', `range ${i}: destination is empty`);
    }
    const width = (r: BinRange) => Number(r.high) - Number(r.low);
    this.#ranges = [...ranges].sort((a, b) => b.low.length - a.low.length || width(a) - width(b));
  }

  /** The range the PAN falls in, or undefined. */
  find(pan: string): BinRange | undefined {
    if (!/^[0-9]{12,19}$/.test(pan)) return undefined;
    for (const range of this.#ranges) {
      const prefix = pan.slice(0, range.low.length);
      if (prefix >= range.low && prefix <= range.high) return range;
    }
    return undefined;
  }
}
