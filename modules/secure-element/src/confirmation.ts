import { createPublicKey, verify } from 'node:crypto';
import { concat, constantTimeEqual, toHex } from '@amulet/bytes';
import { decodeTlv, encodeTlv } from '@amulet/tlv';
import { signP256, spkiFromPoint } from './p256.ts';

/**
 * The SE's confirmation of a card content change, for the issuer of the script (the token
 * service's loader) to check before it turns a token active (DESIGN.md flow 4):
 *
 *   E1 { DF01 token id, 4F instance AID, DF05 action, 86 SCP11 receipt of the session }
 *   5F37 ECDSA P-256 / SHA-256 signature (DER) by the device key over
 *        "AMULET-CONFIRM-V1\0" || the E1 object as sent
 *
 * The receipt binds it to one SCP11 session, so a confirmation cannot be replayed into another.
 */
export type ConfirmedAction = 'personalized' | 'deleted' | 'locked' | 'unlocked';

const ACTION_CODES: Readonly<Record<ConfirmedAction, number>> = {
  personalized: 0x01,
  deleted: 0x02,
  locked: 0x03,
  unlocked: 0x04,
};
const LABEL = new TextEncoder().encode('AMULET-CONFIRM-V1\0');

export interface ConfirmationFields {
  readonly tokenId: string;
  readonly aid: Uint8Array;
  readonly action: ConfirmedAction;
  readonly receipt: Uint8Array;
}

/** Card side: the body and the device key's signature over it. */
export function signConfirmation(privateScalar: Uint8Array, fields: ConfirmationFields): Uint8Array {
  const body = encodeTlv([
    {
      tag: 'E1',
      children: [
        { tag: 'DF01', value: new TextEncoder().encode(fields.tokenId) },
        { tag: '4F', value: fields.aid },
        { tag: 'DF05', value: Uint8Array.of(ACTION_CODES[fields.action]) },
        { tag: '86', value: fields.receipt },
      ],
    },
  ]);
  return concat(body, encodeTlv([{ tag: '5F37', value: signP256(privateScalar, concat(LABEL, body)) }]));
}

export type ConfirmationResult =
  | {
      readonly status: 'valid';
      readonly tokenId: string;
      readonly aid: string;
      readonly action: ConfirmedAction;
    }
  | { readonly status: 'invalid' };

/**
 * Checks a confirmation against the SE's certified public key (the uncompressed point of its
 * device certificate), the receipt of the session that sent the script, and, when given, the
 * expected token id and action. Any failure is the same `{ status: 'invalid' }` (DESIGN.md
 * invariant 3): no detail.
 */
export function verifyConfirmation(input: {
  readonly confirmation: Uint8Array;
  readonly cardPublicKey: Uint8Array;
  readonly receipt: Uint8Array;
  readonly tokenId?: string;
  readonly action?: ConfirmedAction;
}): ConfirmationResult {
  const invalid = { status: 'invalid' } as const;
  try {
    const nodes = decodeTlv(input.confirmation, { allowTrailingPadding: false, maxDepth: 2 });
    const [body, signature] = nodes;
    if (
      nodes.length !== 2 ||
      body?.tag !== 'E1' ||
      signature?.tag !== '5F37' ||
      signature.value === undefined
    )
      return invalid;
    const fields = new Map((body.children ?? []).map((n) => [n.tag, n.value ?? new Uint8Array(0)]));
    const bodyBytes = encodeTlv([body]);
    if (toHex(input.confirmation.subarray(0, bodyBytes.length)) !== toHex(bodyBytes)) return invalid;
    const key = createPublicKey({
      key: Buffer.from(spkiFromPoint(input.cardPublicKey)),
      format: 'der',
      type: 'spki',
    });
    if (!verify('sha256', concat(LABEL, bodyBytes), { key, dsaEncoding: 'der' }, signature.value))
      return invalid;
    const receipt = fields.get('86') ?? new Uint8Array(0);
    if (receipt.length !== input.receipt.length || !constantTimeEqual(receipt, input.receipt)) return invalid;
    const tokenId = new TextDecoder().decode(fields.get('DF01'));
    const code = fields.get('DF05')?.[0];
    const action = (Object.keys(ACTION_CODES) as ConfirmedAction[]).find((a) => ACTION_CODES[a] === code);
    if (action === undefined || (input.action !== undefined && action !== input.action)) return invalid;
    if (input.tokenId !== undefined && tokenId !== input.tokenId) return invalid;
    return { status: 'valid', tokenId, aid: toHex(fields.get('4F') ?? new Uint8Array(0)), action };
  } catch {
    return invalid;
  }
}
