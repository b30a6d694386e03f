import { AmuletError } from '@amulet/bytes';

/**
 * The commands the companion phone sends to the wearable inside secure link records (UTF-8
 * JSON, one object per record), and their answers. The PIN crosses the link encrypted and goes
 * straight to the SE; no server sees it.
 */
export type PhoneCommand =
  | { readonly op: 'set-pin'; readonly pin: string }
  | { readonly op: 'verify-pin'; readonly pin: string }
  | { readonly op: 'set-default'; readonly tokenId: string }
  | { readonly op: 'lock' }
  | { readonly op: 'wipe' }
  | { readonly op: 'cards' };

export type PhoneAnswer =
  | { readonly ok: true; readonly [key: string]: unknown }
  | { readonly ok: false; readonly error: string };

export class WearableError extends AmuletError {}

export const PHONE_COMMAND_BYTES_MAX = 1024;
const TOKEN_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Decodes and checks one command; anything else is `ERR_WEARABLE_COMMAND` with no echo of the input. */
export function decodePhoneCommand(bytes: Uint8Array): PhoneCommand {
  const fail = (): never => {
    throw new WearableError('ERR_WEARABLE_COMMAND', 'the phone command is malformed');
  };
  if (bytes.length > PHONE_COMMAND_BYTES_MAX) return fail();
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return fail();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail();
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v).sort().join(',');
  switch (v.op) {
    case 'set-pin':
    case 'verify-pin':
      if (keys !== 'op,pin' || typeof v.pin !== 'string' || v.pin.length > 12) return fail();
      return { op: v.op, pin: v.pin as string };
    case 'set-default':
      if (keys !== 'op,tokenId' || typeof v.tokenId !== 'string' || !TOKEN_ID.test(v.tokenId)) return fail();
      return { op: 'set-default', tokenId: v.tokenId };
    case 'lock':
    case 'wipe':
    case 'cards':
      if (keys !== 'op') return fail();
      return { op: v.op };
    default:
      return fail();
  }
}

export function encodePhoneCommand(command: PhoneCommand): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(command));
}
