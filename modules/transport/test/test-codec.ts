import { AmuletError } from '@amulet/bytes';
import type { MessageCodec } from '../src/index.ts';

/**
 * A stand-in for ISO 8583 in the transport's tests: a JSON message with an MTI, a STAN and a
 * terminal id. A message marked `corrupt` encodes to bytes the decoder rejects (a leading '!'),
 * so tests can send malformed content through a real client.
 */
export interface TestMessage {
  readonly mti: string;
  readonly stan: string;
  readonly terminal: string;
  readonly responseCode?: string;
  readonly data?: string;
  readonly corrupt?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** MTI class: the second digit (01 authorization, 04 reversal, 08 network management). */
function key(message: TestMessage): string {
  return `${message.terminal}/${message.stan}/${message.mti.slice(1, 2)}`;
}

export const testCodec: MessageCodec<TestMessage> = {
  encode(message) {
    const text = JSON.stringify(message);
    return encoder.encode(message.corrupt === true ? `!${text}` : text);
  },
  decode(frame) {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(frame));
    } catch (cause) {
      throw new AmuletError('ERR_TEST_DECODE', 'not a test message', { cause });
    }
    const message = value as TestMessage;
    if (
      typeof value !== 'object' ||
      value === null ||
      typeof message.mti !== 'string' ||
      !/^\d{4}$/.test(message.mti) ||
      typeof message.stan !== 'string' ||
      typeof message.terminal !== 'string'
    ) {
      throw new AmuletError('ERR_TEST_DECODE', 'not a test message');
    }
    return message;
  },
  requestKey: key,
  responseKey: key,
  // ISO 8583 MTI third digit: 0 request, 1 request response, 2 advice, 3 advice response.
  isResponse: (message) => message.mti[2] === '1' || message.mti[2] === '3',
};

export function request(stan: number, mti = '0200', terminal = 'T0000001'): TestMessage {
  return { mti, stan: String(stan).padStart(6, '0'), terminal };
}

/** The response to a request: the MTI function digit + 1, same key, approved. */
export function answer(message: TestMessage, responseCode = '00'): TestMessage {
  const mti = `${message.mti.slice(0, 2)}${Number(message.mti[2]) + 1}${message.mti[3]}`;
  return {
    mti,
    stan: message.stan,
    terminal: message.terminal,
    responseCode,
    ...(message.data ? { data: message.data } : {}),
  };
}

/** A promise with its resolve, to hold a handler until the test lets it answer. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The code of the error a promise rejects with, or 'resolved'. */
export async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return (error as { code?: string }).code ?? 'uncoded';
  }
}
