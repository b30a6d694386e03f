import { createCipheriv, createDecipheriv } from 'node:crypto';
import { concat } from '@amulet/bytes';
import { LinkError } from './link-error.ts';

/** Record layer constants (docs/protocols/secure-link.md, "Records"). */
export const RECORD_TYPE = { data: 0x17, close: 0x15 } as const;
export const RECORD_HEADER_BYTES = 11;
export const RECORD_TAG_BYTES = 16;
export const RECORD_PLAINTEXT_MAX = 16_384;
const SEQUENCE_MAX = 0xffff_ffff_ffff_ffffn;

export type OpenedRecord = { readonly kind: 'data'; readonly data: Uint8Array } | { readonly kind: 'close' };

interface Direction {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  sequence: bigint;
}

function recordHeader(type: number, sequence: bigint, length: number): Uint8Array {
  const header = new Uint8Array(RECORD_HEADER_BYTES);
  const view = new DataView(header.buffer);
  header[0] = type;
  view.setBigUint64(1, sequence);
  view.setUint16(9, length);
  return header;
}

/** nonce = iv XOR (0x00000000 || sequence as 64-bit big-endian), as in RFC 8446 section 5.3. */
function recordNonce(iv: Uint8Array, sequence: bigint): Uint8Array {
  const nonce = iv.slice();
  const view = new DataView(nonce.buffer);
  view.setBigUint64(4, view.getBigUint64(4) ^ sequence);
  return nonce;
}

/**
 * One side of an established secure link: AES-256-GCM records, each carrying its 64-bit
 * sequence number in the header and the nonce. A record that fails any check (altered,
 * replayed, reordered, cut) ends the session with one fixed error; so does a transport that ends
 * before the peer's close record. A closed or failed session refuses every call.
 */
export class SecureLinkSession {
  private readonly send: Direction;
  private readonly receive: Direction;
  private sendClosed = false;
  private receiveClosed = false;
  private failed = false;

  constructor(sendKey: Uint8Array, sendIv: Uint8Array, receiveKey: Uint8Array, receiveIv: Uint8Array) {
    this.send = { key: sendKey, iv: sendIv, sequence: 0n };
    this.receive = { key: receiveKey, iv: receiveIv, sequence: 0n };
  }

  /** True once the session can neither send nor receive. */
  get closed(): boolean {
    return this.failed || (this.sendClosed && this.receiveClosed);
  }

  /** Encrypts one application data record. */
  seal(data: Uint8Array): Uint8Array {
    this.assertOpen(this.sendClosed);
    if (data.length > RECORD_PLAINTEXT_MAX) {
      throw new LinkError('ERR_LINK_LIMIT', `a record carries at most ${RECORD_PLAINTEXT_MAX} bytes`);
    }
    return this.sealRecord(RECORD_TYPE.data, data);
  }

  /** The close record: the peer knows the stream ended here and was not cut. */
  close(): Uint8Array {
    this.assertOpen(this.sendClosed);
    const record = this.sealRecord(RECORD_TYPE.close, new Uint8Array(0));
    this.sendClosed = true;
    return record;
  }

  /** Decrypts the next record; anything but the exact next record from the peer ends the session. */
  open(record: Uint8Array): OpenedRecord {
    this.assertOpen(this.receiveClosed);
    const opened = this.openRecord(record);
    if (opened === undefined) {
      this.failed = true;
      throw new LinkError('ERR_LINK_RECORD', 'secure link record rejected');
    }
    this.receive.sequence++;
    if (opened.type === RECORD_TYPE.close) {
      this.receiveClosed = true;
      return { kind: 'close' };
    }
    return { kind: 'data', data: opened.plaintext };
  }

  /** The transport ended: fine after the peer's close record, truncation otherwise. */
  end(): void {
    if (this.receiveClosed && !this.failed) return;
    this.failed = true;
    throw new LinkError('ERR_LINK_TRUNCATED', 'secure link ended without a close record');
  }

  private assertOpen(directionClosed: boolean): void {
    if (this.failed || directionClosed)
      throw new LinkError('ERR_LINK_CLOSED', 'secure link session is closed');
  }

  private sealRecord(type: number, plaintext: Uint8Array): Uint8Array {
    const sequence = this.send.sequence;
    if (sequence === SEQUENCE_MAX) {
      this.failed = true;
      throw new LinkError('ERR_LINK_LIMIT', 'secure link sequence numbers exhausted');
    }
    const header = recordHeader(type, sequence, plaintext.length + RECORD_TAG_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.send.key, recordNonce(this.send.iv, sequence));
    cipher.setAAD(header);
    const body = concat(cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
    this.send.sequence++;
    return concat(header, body);
  }

  private openRecord(record: Uint8Array): { type: number; plaintext: Uint8Array } | undefined {
    if (record.length < RECORD_HEADER_BYTES + RECORD_TAG_BYTES) return undefined;
    const view = new DataView(record.buffer, record.byteOffset, record.length);
    const type = record[0]!;
    const sequence = view.getBigUint64(1);
    const length = view.getUint16(9);
    if (type !== RECORD_TYPE.data && type !== RECORD_TYPE.close) return undefined;
    if (sequence !== this.receive.sequence || length !== record.length - RECORD_HEADER_BYTES)
      return undefined;
    if (type === RECORD_TYPE.close && length !== RECORD_TAG_BYTES) return undefined;
    const ciphertext = record.subarray(RECORD_HEADER_BYTES, record.length - RECORD_TAG_BYTES);
    const tag = record.subarray(record.length - RECORD_TAG_BYTES);
    try {
      const decipher = createDecipheriv(
        'aes-256-gcm',
        this.receive.key,
        recordNonce(this.receive.iv, sequence),
      );
      decipher.setAAD(record.subarray(0, RECORD_HEADER_BYTES));
      decipher.setAuthTag(tag);
      const plaintext = concat(decipher.update(ciphertext), decipher.final());
      return { type, plaintext };
    } catch {
      return undefined;
    }
  }
}
