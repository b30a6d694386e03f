import { toHex } from '@amulet/bytes';
import { keyCheckValue } from '@amulet/emv';
import { decodeTlv } from '@amulet/tlv';
import { installForInstallData, installForPersonalizationData } from './card-content.ts';
import { encodePersonalizationData } from './personalization-data.ts';
import type { HostResponse, Scp11HostSession } from './scp11-host.ts';
import { SecureElementError } from './secure-element-error.ts';
import { baseAids, type Profile, profileCvns, type SupportedCvn } from './state.ts';

/** What the token service's loader puts into one payment applet instance. */
export interface PersonalizationCard {
  /** The token id the confirmation will name. */
  readonly id: string;
  readonly profile: Profile;
  readonly cvn: SupportedCvn;
  readonly label: string;
  /** The DPAN. */
  readonly pan: string;
  /** YYMMDD. */
  readonly expiry: string;
  readonly psn: string;
  /** The token's ICC master key MK-AC (16 bytes; AES for CVN 22, double-length 3DES otherwise). */
  readonly mkAc: Uint8Array;
}

export interface ScriptOutcome {
  /** The instance AID the SE installed. */
  readonly aid: string;
  /** The SE's signed confirmation: check it with `verifyConfirmation` before trusting it. */
  readonly confirmation: Uint8Array;
}

async function expectSuccess(step: string, response: Promise<HostResponse>): Promise<Uint8Array> {
  const { data, sw } = await response;
  if (sw !== 0x9000) {
    const hex = sw.toString(16).toUpperCase().padStart(4, '0');
    throw new SecureElementError('ERR_SE_SCRIPT', `${step} answered ${hex}`);
  }
  return data;
}

/** GET STATUS of the applications (GlobalPlatform Card Specification 11.4), as AIDs. */
export async function installedAids(session: Scp11HostSession): Promise<string[]> {
  const response = await session.send({
    cla: 0x80,
    ins: 0xf2,
    p1: 0x40,
    p2: 0x02,
    data: Uint8Array.of(0x4f, 0x00),
    le: 256,
  });
  if (response.sw === 0x6a88) return [];
  if (response.sw !== 0x9000) throw new SecureElementError('ERR_SE_SCRIPT', 'GET STATUS failed');
  return decodeTlv(response.data)
    .filter((n) => n.tag === 'E3')
    .map((n) => toHex(n.children?.find((c) => c.tag === '4F')?.value ?? new Uint8Array(0)));
}

/** MK-AC as STORE DATA carries it (personalization-data.ts, DF03 and DF04). */
export interface SealedIccKey {
  /** MK-AC under S-DEK: AES-CBC, zero ICV (Amendment D 7.2). */
  readonly encryptedMkAc: Uint8Array;
  /** Its key check value: 3 bytes, GlobalPlatform AES method for CVN 22, TDEA E(0) otherwise. */
  readonly keyCheckValue: Uint8Array;
}

/** Encrypts MK-AC under the session's S-DEK and computes its key check value. */
export function sealIccKey(session: Scp11HostSession, mkAc: Uint8Array, cvn: SupportedCvn): SealedIccKey {
  if (mkAc.length !== 16) throw new SecureElementError('ERR_SE_KEY', 'MK-AC must be 16 bytes');
  return {
    encryptedMkAc: session.encryptKey(mkAc),
    keyCheckValue: keyCheckValue(
      mkAc,
      cvn === 22 ? { algorithm: 'aes', method: 'gp-aes', length: 3 } : { algorithm: 'tdes' },
    ),
  };
}

/**
 * Personalizes one payment applet instance over an open SCP11 session (docs/secure-element.md,
 * "Personalization"): GET STATUS to find a free instance AID, INSTALL [for install and make
 * selectable], INSTALL [for personalization], then one STORE DATA with the card data and MK-AC
 * encrypted under S-DEK. Returns the SE's signed confirmation; nothing is stored by the SE until
 * STORE DATA succeeds.
 */
export async function personalizationScript(
  session: Scp11HostSession,
  card: PersonalizationCard,
): Promise<ScriptOutcome> {
  if (!profileCvns[card.profile].includes(card.cvn))
    throw new SecureElementError('ERR_SE_CVN', 'this profile does not support that cryptogram version');
  if (card.mkAc.length !== 16) throw new SecureElementError('ERR_SE_KEY', 'MK-AC must be 16 bytes');
  return personalizationScriptSealed(session, card, async (s) => sealIccKey(s, card.mkAc, card.cvn));
}

/**
 * `personalizationScript` for a host that keeps MK-AC out of its memory as long as it can (an
 * HSM exports it only when asked): `sealKey` is called once, right before STORE DATA, and
 * returns MK-AC already under S-DEK with its key check value.
 */
export async function personalizationScriptSealed(
  session: Scp11HostSession,
  card: Omit<PersonalizationCard, 'mkAc'>,
  sealKey: (session: Scp11HostSession) => Promise<SealedIccKey>,
): Promise<ScriptOutcome> {
  if (!profileCvns[card.profile].includes(card.cvn))
    throw new SecureElementError('ERR_SE_CVN', 'this profile does not support that cryptogram version');
  const taken = new Set(await installedAids(session));
  const base = baseAids[card.profile];
  let aid = base;
  for (let suffix = 1; taken.has(aid); suffix++)
    aid = base + suffix.toString(16).padStart(2, '0').toUpperCase();
  await expectSuccess(
    'INSTALL [for install]',
    session.send({
      cla: 0x80,
      ins: 0xe6,
      p1: 0x0c,
      p2: 0x00,
      data: installForInstallData(card.profile, aid),
      le: 256,
    }),
  );
  await expectSuccess(
    'INSTALL [for personalization]',
    session.send({
      cla: 0x80,
      ins: 0xe6,
      p1: 0x20,
      p2: 0x00,
      data: installForPersonalizationData(aid),
      le: 256,
    }),
  );
  const sealed = await sealKey(session);
  const data = encodePersonalizationData({
    tokenId: card.id,
    cvn: card.cvn,
    label: card.label.slice(0, 16),
    pan: card.pan,
    expiry: card.expiry,
    psn: card.psn,
    encryptedMkAc: sealed.encryptedMkAc,
    keyCheckValue: sealed.keyCheckValue,
  });
  // P1 B0: last block, application-dependent encryption, BER-TLV (Card Specification 11.11.2.1).
  const confirmation = await expectSuccess(
    'STORE DATA',
    session.send({ cla: 0x80, ins: 0xe2, p1: 0xb0, p2: 0x00, data, le: 256 }),
  );
  return { aid, confirmation };
}

function aidObject(aid: string): Uint8Array {
  if (!/^(?:[0-9A-F]{2}){5,16}$/.test(aid))
    throw new SecureElementError('ERR_SE_AID', 'an AID is 5 to 16 bytes of hex');
  return Uint8Array.from([0x4f, aid.length / 2, ...Buffer.from(aid, 'hex')]);
}

/** DELETE [card content] of one instance (Card Specification 11.2): the token and its keys are erased. */
export async function deleteScript(session: Scp11HostSession, aid: string): Promise<ScriptOutcome> {
  const confirmation = await expectSuccess(
    'DELETE',
    session.send({ cla: 0x80, ins: 0xe4, p1: 0x00, p2: 0x00, data: aidObject(aid), le: 256 }),
  );
  return { aid, confirmation };
}

/** SET STATUS of one instance (Card Specification 11.10): lock (the token is suspended) or unlock. */
export async function setStatusScript(
  session: Scp11HostSession,
  aid: string,
  lock: boolean,
): Promise<ScriptOutcome> {
  const confirmation = await expectSuccess(
    'SET STATUS',
    session.send({
      cla: 0x80,
      ins: 0xf0,
      p1: 0x40,
      p2: lock ? 0x80 : 0x00,
      data: aidObject(aid).subarray(2),
      le: 256,
    }),
  );
  return { aid, confirmation };
}

/**
 * PUT KEY of a new SCP03 key set (GlobalPlatform Card Specification 11.8, Amendment D 7.2): three
 * AES-128 keys (ENC, MAC, DEK) encrypted under S-DEK with their key check values, replacing the
 * set of version `replaces` (00 when the SE has none). Returns the KCVs the SE answered, which
 * the caller compares with its own.
 */
export async function putScp03Keys(
  session: Scp11HostSession,
  keys: {
    readonly kvn: number;
    readonly enc: Uint8Array;
    readonly mac: Uint8Array;
    readonly dek: Uint8Array;
  },
  replaces = 0,
): Promise<{ readonly kvn: number; readonly keyCheckValues: readonly Uint8Array[] }> {
  const parts: number[] = [keys.kvn];
  for (const key of [keys.enc, keys.mac, keys.dek]) {
    if (key.length !== 16) throw new SecureElementError('ERR_SE_KEY', 'SCP03 keys here are AES-128');
    const kcv = keyCheckValue(key, { algorithm: 'aes', method: 'gp-aes', length: 3 });
    parts.push(0x88, 0x11, 0x10, ...session.encryptKey(key), 0x03, ...kcv);
  }
  const data = await expectSuccess(
    'PUT KEY',
    session.send({ cla: 0x80, ins: 0xd8, p1: replaces, p2: 0x81, data: Uint8Array.from(parts), le: 256 }),
  );
  if (data.length !== 10)
    throw new SecureElementError('ERR_SE_SCRIPT', 'PUT KEY answered an unexpected length');
  return { kvn: data[0] ?? 0, keyCheckValues: [data.slice(1, 4), data.slice(4, 7), data.slice(7, 10)] };
}
