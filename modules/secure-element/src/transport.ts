import type { SecureElement } from './secure-element.ts';

/** One way to reach a secure element: a command APDU out, its response APDU back. */
export interface SeTransport {
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** The SE in this process: each call is one `transmit`, on a copy of the bytes. */
export function inProcessTransport(se: SecureElement): SeTransport {
  return {
    transmit: async (apdu) => se.transmit(apdu.slice()),
  };
}
