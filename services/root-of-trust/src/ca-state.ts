import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import type { RevocationReason } from '@amulet/pki';
import { atomicWrite } from './atomic-write.ts';
import { RootOfTrustError } from './root-of-trust-error.ts';

/** The CAs a root of trust directory holds; the root's key may be kept offline. */
export const ISSUING_CAS = ['device-ca', 'service-ca'] as const;
export type IssuingCa = (typeof ISSUING_CAS)[number];
export type CaName = 'root' | IssuingCa;

export interface IssuedRecord {
  readonly ca: IssuingCa;
  readonly profile: 'device' | 'service';
  readonly subject: string;
  readonly issuedAt: string;
  readonly notAfter: string;
  readonly certificatePem: string;
}

export interface RevocationRecord {
  readonly ca: IssuingCa;
  readonly revokedAt: string;
  readonly reason: RevocationReason;
}

/**
 * What the CAs issued and revoked: `state.json` (as the key ceremony wrote it) with the lines of
 * `state.journal` applied (docs/root-of-trust.md, "Files"). The `…Entry` functions below check a
 * change against the state and give its journal line; nothing else decides what may be recorded.
 */
export interface CaState {
  readonly version: 1;
  readonly tenantId: string;
  readonly ocspUrl?: string;
  readonly crlUrl?: string;
  readonly crlNumbers: Readonly<Record<CaName, number>>;
  readonly issued: Readonly<Record<string, IssuedRecord>>;
  readonly revoked: Readonly<Record<string, RevocationRecord>>;
}

/** The journal line that records an issuance; a serial number already issued is refused. */
export function issuedEntry(state: CaState, serialHex: string, record: IssuedRecord): JournalEntry {
  if (Object.hasOwn(state.issued, serialHex)) {
    throw new RootOfTrustError('ERR_SERIAL_COLLISION', 'serial number already issued');
  }
  return { op: 'issued', serial: serialHex, record };
}

/** The journal line that records a revocation; an unknown or already revoked serial is refused. */
export function revocationEntry(
  state: CaState,
  serialHex: string,
  revokedAt: string,
  reason: RevocationReason,
): JournalEntry & { op: 'revoked' } {
  const issued = state.issued[serialHex];
  if (issued === undefined)
    throw new RootOfTrustError(
      'ERR_UNKNOWN_SERIAL',
      'no certificate with this serial number was issued here',
    );
  if (Object.hasOwn(state.revoked, serialHex))
    throw new RootOfTrustError('ERR_ALREADY_REVOKED', 'certificate is already revoked');
  return { op: 'revoked', serial: serialHex, record: { ca: issued.ca, revokedAt, reason } };
}

/** The journal line of a CA's next CRL number. */
export function crlEntry(state: CaState, ca: CaName): JournalEntry & { op: 'crl' } {
  return { op: 'crl', ca, number: state.crlNumbers[ca] + 1 };
}

/** `state.journal` beside `state.json`: what happened since the snapshot, one JSON line each. */
export function journalPath(statePath: string): string {
  return statePath.replace(/\.json$/, '') + '.journal';
}

/**
 * One line of the journal. Each is safe to apply twice (an issued or revoked serial already there
 * is left as it is, a CRL number only rises), so the order of lines two processes appended at once
 * does not matter.
 */
export type JournalEntry =
  | { readonly op: 'issued'; readonly serial: string; readonly record: IssuedRecord }
  | { readonly op: 'revoked'; readonly serial: string; readonly record: RevocationRecord }
  | { readonly op: 'crl'; readonly ca: CaName; readonly number: number };

type Mutable<T> = {
  -readonly [K in keyof T]: T[K] extends object ? { -readonly [J in keyof T[K]]: T[K][J] } : T[K];
};

/** Applies one journal entry to a state in place. */
export function applyEntry(state: Mutable<CaState>, entry: JournalEntry): void {
  if (entry.op === 'issued') {
    if (!Object.hasOwn(state.issued, entry.serial)) state.issued[entry.serial] = entry.record;
  } else if (entry.op === 'revoked') {
    if (!Object.hasOwn(state.revoked, entry.serial)) state.revoked[entry.serial] = entry.record;
  } else if (entry.op === 'crl') {
    state.crlNumbers[entry.ca] = Math.max(state.crlNumbers[entry.ca] ?? 0, entry.number);
  }
}

/**
 * Applies the complete lines of `text` (journal bytes from some offset) and returns how many bytes
 * they took. A last line without its newline is a write that never finished (it was never
 * acknowledged): left for the next read, and skipped for good once a newer line follows it.
 */
function applyLines(state: Mutable<CaState>, text: string): number {
  let used = 0;
  for (;;) {
    const end = text.indexOf('\n', used);
    if (end < 0) return Buffer.byteLength(text.slice(0, used));
    const line = text.slice(used, end);
    used = end + 1;
    if (line.length === 0) continue;
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch {
      continue; // the unfinished write of a process that stopped mid-line, glued to a newer line
    }
    applyEntry(state, entry);
  }
}

export function readState(path: string): CaState {
  return openStateFile(path).state;
}

/** The state as on disk (snapshot and journal), with how far into the journal it has read. */
export function openStateFile(path: string): { state: CaState; journalOffset: number } {
  let state: Mutable<CaState>;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as Mutable<CaState>;
  } catch {
    throw new RootOfTrustError('ERR_CA_STATE', 'state.json is missing or not JSON; run rot init first');
  }
  if (state.version !== 1) throw new RootOfTrustError('ERR_CA_STATE', 'state.json has an unknown version');
  const journal = journalPath(path);
  const journalOffset = existsSync(journal) ? applyLines(state, readFileSync(journal, 'utf8')) : 0;
  return { state, journalOffset };
}

/** Reads the journal from `offset` on and applies what is new; the new offset. */
export function readJournalFrom(path: string, state: CaState, offset: number): number {
  const fd = openSync(journalPath(path), 'r');
  try {
    const size = fstatSync(fd).size;
    if (size <= offset) return offset;
    const bytes = Buffer.alloc(size - offset);
    readSync(fd, bytes, 0, bytes.length, offset);
    return offset + applyLines(state as Mutable<CaState>, bytes.toString('utf8'));
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends one entry and waits for it to reach the disk (fsync) before returning: a certificate is
 * handed out only once its record is durable. One write of one line with O_APPEND, so lines of two
 * processes never interleave.
 */
export function appendEntry(path: string, entry: JournalEntry): void {
  const line = Buffer.from(`${JSON.stringify(entry)}\n`);
  const fd = openSync(journalPath(path), 'a+', 0o644);
  try {
    // A line left unfinished by a stopped process: start on a fresh line.
    const size = fstatSync(fd).size;
    let lastByte = 0x0a;
    if (size > 0) {
      const one = Buffer.alloc(1);
      readSync(fd, one, 0, 1, size - 1);
      lastByte = one[0] ?? 0x0a;
    }
    writeSync(fd, lastByte === 0x0a ? line : Buffer.concat([Buffer.from('\n'), line]));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function writeState(path: string, state: CaState): void {
  atomicWrite(path, `${JSON.stringify(state, null, 2)}\n`);
}

/** The snapshot's modification time and size, to see it was replaced (a new `rot init`). */
export function stateVersionTag(path: string): string {
  const stat = statSync(path);
  return `${stat.mtimeMs}:${stat.size}`;
}

/** The journal's size: more than was read means another process appended (e.g. a revocation). */
export function journalSize(path: string): number {
  const journal = journalPath(path);
  return existsSync(journal) ? statSync(journal).size : 0;
}
