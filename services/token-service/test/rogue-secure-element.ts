import { concat } from '@amulet/bytes';
import { parseCertificate } from '@amulet/pki';
import {
  type ConfirmationFields,
  cardKeyAgreement,
  decodePersonalizationData,
  generatePrivateScalar,
  parseInstallForInstall,
  pointFromSpki,
  publicPoint,
  type Scp03CardSession,
  signConfirmation,
  spkiFromPoint,
} from '@amulet/secure-element';

/**
 * A secure element whose firmware lies, at the edge of the world: it holds a certified key and
 * speaks SCP11a correctly (so every R-MAC is right), but signs the confirmation it is told to.
 * Built from @amulet/secure-element's card-side primitives (cardKeyAgreement, the SCP03 card
 * session, signConfirmation); used only to reach the loader's confirmation check, which an
 * honest SE never fails.
 */
export interface RogueSecureElement {
  /** Its public key as DER SubjectPublicKeyInfo, for the device certificate. */
  readonly spki: Uint8Array;
  /** Set once certified: the chain it serves to GET DATA BF21, device certificate first. */
  certificates: readonly Uint8Array[];
  transmit(command: Uint8Array): Uint8Array;
}

const sw = (value: number): Uint8Array => Uint8Array.of(value >> 8, value & 0xff);

export function rogueSecureElement(
  rng: (n: number) => Uint8Array,
  /** What to sign, given the honest fields (this token, instance, action and session receipt). */
  lie: (honest: ConfirmationFields) => { readonly fields: ConfirmationFields; readonly key?: Uint8Array },
): RogueSecureElement {
  const key = generatePrivateScalar(rng);
  let pending: Uint8Array | undefined;
  let oceChunks: Uint8Array[] = [];
  let oceLeaf: Uint8Array | undefined;
  let session: { card: Scp03CardSession; receipt: Uint8Array } | undefined;
  let aid = new Uint8Array(0);
  const rogue: RogueSecureElement = {
    spki: spkiFromPoint(publicPoint(key)),
    certificates: [],
    transmit(command) {
      const ins = command[1];
      const data = (apdu: Uint8Array) => apdu.subarray(5, 5 + (apdu[4] ?? 0));
      // ISO/IEC 7816-4 5.3.4: a long answer in 256-byte parts, each part announcing the rest (61xx).
      const part = (bytes: Uint8Array): Uint8Array => {
        const head = bytes.subarray(0, 256);
        const rest = bytes.subarray(256);
        pending = rest.length > 0 ? rest : undefined;
        return concat(head, sw(rest.length > 0 ? 0x6100 | Math.min(rest.length, 255) : 0x9000));
      };
      if (command[0] === 0x84 && session !== undefined) {
        const plain = session.card.unwrapCommand(command);
        const body = data(plain);
        if (plain[1] === 0xe6 && plain[2] === 0x0c)
          aid = new Uint8Array(Buffer.from(parseInstallForInstall(body)?.application ?? '', 'hex'));
        // wrapResponse gives the data and R-MAC; the status word follows in clear.
        if (plain[1] !== 0xe2)
          return concat(session.card.wrapResponse(new Uint8Array(0), 0x9000), sw(0x9000));
        const tokenId = decodePersonalizationData(body).tokenId;
        const told = lie({ tokenId, aid, action: 'personalized', receipt: session.receipt });
        const confirmation = signConfirmation(told.key ?? key, told.fields);
        return concat(session.card.wrapResponse(confirmation, 0x9000), sw(0x9000));
      }
      switch (ins) {
        case 0xa4:
          session = undefined;
          return sw(0x9000);
        case 0xca:
          return part(concat(...[...rogue.certificates].reverse()));
        case 0xc0:
          return pending === undefined ? sw(0x6985) : part(pending);
        case 0x2a: {
          oceChunks.push(data(command).slice());
          if (command[0] === 0x90) return sw(0x9000);
          const certificate = concat(...oceChunks);
          oceChunks = [];
          // The last certificate (P2 b8 clear) is the OCE's own; this SE trusts whatever it is sent.
          if (((command[3] ?? 0) & 0x80) === 0) oceLeaf = certificate;
          return sw(0x9000);
        }
        case 0x82: {
          if (oceLeaf === undefined) return sw(0x6985);
          const agreement = cardKeyAgreement({
            variant: 'A',
            commandData: data(command),
            sdPrivateKey: key,
            ocePublicKey: pointFromSpki(parseCertificate(oceLeaf).subjectPublicKeyInfo),
            rng,
          });
          session = { card: agreement.session, receipt: agreement.receipt };
          return concat(agreement.response, sw(0x9000));
        }
        default:
          return sw(0x6d00);
      }
    },
  };
  return rogue;
}
