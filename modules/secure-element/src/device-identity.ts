import { decodeTlv, encodeTlv } from '@amulet/tlv';
import { SecureElementError } from './secure-element-error.ts';

/**
 * What the SE states about itself in an attestation. The signed context (docs/root-of-trust.md,
 * "Attestation") is the caller's context followed by this state, as BER-TLV:
 *
 *   DF70 caller context (0..200 bytes)
 *   E2 { C1 applet count (1), C2 PIN (00 none, 01 set, 02 blocked), C3 sealed storage version (4), C4 certified (1) }
 */
export interface AttestationState {
  readonly tokens: number;
  readonly pin: 'none' | 'set' | 'blocked';
  readonly storageVersion: number;
  readonly certified: boolean;
}

/** The caller's part of the context is bounded so the whole fits the 256 bytes of @amulet/pki. */
export const ATTESTATION_CALLER_CONTEXT_BYTES_MAX = 200;
const PIN_CODES = { none: 0, set: 1, blocked: 2 } as const;

export function attestationContext(callerContext: Uint8Array, state: AttestationState): Uint8Array {
  if (callerContext.length > ATTESTATION_CALLER_CONTEXT_BYTES_MAX)
    throw new SecureElementError(
      'ERR_SE_ATTESTATION_CONTEXT',
      `the context is at most ${ATTESTATION_CALLER_CONTEXT_BYTES_MAX} bytes`,
    );
  const version = new Uint8Array(4);
  new DataView(version.buffer).setUint32(0, state.storageVersion);
  return encodeTlv([
    { tag: 'DF70', value: callerContext },
    {
      tag: 'E2',
      children: [
        { tag: 'C1', value: Uint8Array.of(state.tokens) },
        { tag: 'C2', value: Uint8Array.of(PIN_CODES[state.pin]) },
        { tag: 'C3', value: version },
        { tag: 'C4', value: Uint8Array.of(state.certified ? 1 : 0) },
      ],
    },
  ]);
}

/** Reads a signed context back: the caller's part and the SE's state. Throws on anything else. */
export function decodeAttestationContext(context: Uint8Array): {
  readonly callerContext: Uint8Array;
  readonly state: AttestationState;
} {
  const fail = (): never => {
    throw new SecureElementError('ERR_SE_ATTESTATION_CONTEXT', 'the attestation context is malformed');
  };
  let nodes: ReturnType<typeof decodeTlv>;
  try {
    nodes = decodeTlv(context, { allowTrailingPadding: false, maxDepth: 2 });
  } catch {
    return fail();
  }
  const [caller, stateNode] = nodes;
  if (nodes.length !== 2 || caller?.tag !== 'DF70' || stateNode?.tag !== 'E2') return fail();
  const fields = new Map((stateNode.children ?? []).map((n) => [n.tag, n.value ?? new Uint8Array(0)]));
  const one = (tag: string) => {
    const v = fields.get(tag);
    return v?.length === 1 ? (v[0] as number) : fail();
  };
  const version = fields.get('C3');
  if (version?.length !== 4 || fields.size !== 4) return fail();
  const pin = (Object.keys(PIN_CODES) as AttestationState['pin'][]).find((p) => PIN_CODES[p] === one('C2'));
  const certified = one('C4');
  if (pin === undefined || certified > 1) return fail();
  return {
    callerContext: caller.value ?? new Uint8Array(0),
    state: {
      tokens: one('C1'),
      pin,
      storageVersion: new DataView(version.buffer, version.byteOffset).getUint32(0),
      certified: certified === 1,
    },
  };
}
