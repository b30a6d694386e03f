import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Hsm } from '@amulet/hsm';
import { TokenServiceError } from './token-service-error.ts';
import type { World } from './world.ts';

/** What the vault keeps of a card, encrypted: the PAN and its real expiry. */
export interface CardSecret {
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
}

export interface ProtectedCard {
  readonly panLookup: Uint8Array;
  readonly panCiphertext: Uint8Array;
  readonly wrappingKeyId: string;
  readonly wrappedDataKey: Uint8Array;
}

export interface CardProtectionKeys {
  /** `data-key-wrap` KEK in the HSM: wraps each record's data key (envelope encryption). */
  readonly kekId: string;
  /** AES `mac` key in the HSM: the keyed hash (CMAC, NIST SP 800-38B) of the PAN for lookups. */
  readonly lookupKeyId: string;
}

const AAD = new TextEncoder().encode('amulet-vault-card/1');

/**
 * Envelope encryption of the vault (DESIGN.md invariant 2): each card is encrypted with
 * AES-256-GCM under a fresh data key, the data key is wrapped by the HSM's KEK, and the lookup
 * value is a CMAC of the PAN under an HSM key, so the store never sees a clear PAN.
 */
export class CardProtection {
  constructor(
    private readonly hsm: Hsm,
    private readonly keys: CardProtectionKeys,
    private readonly world: World,
  ) {}

  /** The keyed hash used to find a PAN (or to prove a DPAN is not one). */
  async lookup(pan: string): Promise<Uint8Array> {
    return this.hsm.generateMac({
      keyId: this.keys.lookupKeyId,
      algorithm: 'cmac',
      data: new TextEncoder().encode(`pan:${pan}`),
    });
  }

  /**
   * Encrypts a card under a fresh data key. `panLookup`, when the caller already computed
   * `lookup(card.pan)`, saves the HSM a second CMAC of the same PAN.
   */
  async protect(card: CardSecret, panLookup?: Uint8Array): Promise<ProtectedCard> {
    const dataKey = await this.hsm.generateDataKey({ kekId: this.keys.kekId, length: 32 });
    try {
      const nonce = this.world.random(12);
      const cipher = createCipheriv('aes-256-gcm', dataKey.plaintext, nonce);
      cipher.setAAD(AAD);
      const body = Buffer.concat([
        cipher.update(JSON.stringify({ pan: card.pan, expiry: card.expiry }), 'utf8'),
        cipher.final(),
      ]);
      return {
        panLookup: panLookup ?? (await this.lookup(card.pan)),
        panCiphertext: new Uint8Array(Buffer.concat([nonce, body, cipher.getAuthTag()])),
        wrappingKeyId: dataKey.kekId,
        wrappedDataKey: dataKey.wrapped,
      };
    } finally {
      dataKey.plaintext.fill(0);
    }
  }

  async reveal(record: {
    readonly panCiphertext: Uint8Array;
    readonly wrappingKeyId: string;
    readonly wrappedDataKey: Uint8Array;
  }): Promise<CardSecret> {
    const key = await this.hsm.decryptDataKey({
      kekId: record.wrappingKeyId,
      wrapped: record.wrappedDataKey,
    });
    try {
      const data = record.panCiphertext;
      if (data.length < 12 + 16) throw new Error('short');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAAD(AAD);
      decipher.setAuthTag(data.subarray(data.length - 16));
      const clear = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
      const parsed = JSON.parse(clear.toString('utf8')) as CardSecret;
      return { pan: parsed.pan, expiry: parsed.expiry };
    } catch (cause) {
      throw new TokenServiceError('ERR_TSP_INTERNAL', 'a vault record failed to decrypt', { cause });
    } finally {
      key.fill(0);
    }
  }
}
