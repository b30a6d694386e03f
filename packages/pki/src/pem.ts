import { PkiError } from './pki-error.ts';

/** PEM encoding (RFC 7468 section 2): base64 in 64-character lines between labels. */
export function toPem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.length).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every block with `label` in `text`, in order (RFC 7468 section 3, lax parsing). */
export function fromPemAll(text: string, label: string): Uint8Array[] {
  const pattern = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*?)-----END ${label}-----`, 'g');
  const blocks: Uint8Array[] = [];
  for (const match of text.matchAll(pattern)) {
    const body = (match[1] ?? '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0 || body.length === 0) {
      throw new PkiError('ERR_PKI_PEM', `a ${label} PEM block is not valid base64`);
    }
    blocks.push(new Uint8Array(Buffer.from(body, 'base64')));
  }
  return blocks;
}

/** The one block with `label`; refuses text with none. */
export function fromPem(text: string, label: string): Uint8Array {
  const blocks = fromPemAll(text, label);
  if (blocks.length === 0) throw new PkiError('ERR_PKI_PEM', `no ${label} PEM block found`);
  return blocks[0]!;
}
