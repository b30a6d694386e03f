import { Iso8583Error } from './iso8583-error.ts';

/** The four positions of an MTI (ISO 8583:1987 section 4.1). */
export interface MtiParts {
  readonly mti: string;
  readonly version: string;
  readonly messageClass: string;
  readonly function: string;
  readonly origin: string;
}

// ISO 8583 section 4.1: what each digit position means (1993 and 2003 add function 5-7).
const VERSIONS: Readonly<Record<string, string>> = {
  '0': 'ISO 8583:1987',
  '1': 'ISO 8583:1993',
  '2': 'ISO 8583:2003',
  '8': 'national use',
  '9': 'private use',
};
const CLASSES: Readonly<Record<string, string>> = {
  '1': 'authorization',
  '2': 'financial',
  '3': 'file action',
  '4': 'reversal or chargeback',
  '5': 'reconciliation',
  '6': 'administrative',
  '7': 'fee collection',
  '8': 'network management',
};
const FUNCTIONS: Readonly<Record<string, string>> = {
  '0': 'request',
  '1': 'request response',
  '2': 'advice',
  '3': 'advice response',
  '4': 'notification',
  '5': 'notification acknowledgement',
  '6': 'instruction',
  '7': 'instruction acknowledgement',
  '8': 'response acknowledgement',
  '9': 'negative acknowledgement',
};
const ORIGINS: Readonly<Record<string, string>> = {
  '0': 'acquirer',
  '1': 'acquirer repeat',
  '2': 'issuer',
  '3': 'issuer repeat',
  '4': 'other',
  '5': 'other repeat',
};

/** One exchange the system uses: a request (or advice), its response, and its repeat. */
export interface MessagePair {
  readonly name: string;
  readonly request: string;
  readonly response: string;
  readonly repeat: string;
}

/** The message pairs Amulet's parties exchange. */
export const messagePairs: readonly MessagePair[] = [
  { name: 'authorization', request: '0100', response: '0110', repeat: '0101' },
  { name: 'financial transaction', request: '0200', response: '0210', repeat: '0201' },
  { name: 'reversal', request: '0400', response: '0410', repeat: '0401' },
  { name: 'reversal advice', request: '0420', response: '0430', repeat: '0421' },
  { name: 'network management', request: '0800', response: '0810', repeat: '0801' },
];

/** Splits an MTI into its positions; throws `ERR_ISO8583_MTI` unless it is four digits. */
export function parseMti(mti: string): MtiParts {
  if (typeof mti !== 'string' || !/^[0-9]{4}$/.test(mti)) {
    throw new Iso8583Error('ERR_ISO8583_MTI', 'an MTI must be four decimal digits');
  }
  return { mti, version: mti[0]!, messageClass: mti[1]!, function: mti[2]!, origin: mti[3]! };
}

/** `financial request from the acquirer (ISO 8583:1987)`; unknown positions are named by digit. */
export function describeMti(mti: string): string {
  const parts = parseMti(mti);
  const messageClass = CLASSES[parts.messageClass] ?? `class ${parts.messageClass}`;
  const messageFunction = FUNCTIONS[parts.function] ?? `function ${parts.function}`;
  const origin = ORIGINS[parts.origin] ?? `origin ${parts.origin}`;
  const version = VERSIONS[parts.version] ?? `version ${parts.version}`;
  return `${messageClass} ${messageFunction} from the ${origin} (${version})`;
}

/** True for a repeat: origin position 1, 3 or 5 (a retransmission of the same message). */
export function isRepeat(mti: string): boolean {
  const origin = parseMti(mti).origin;
  return origin === '1' || origin === '3' || origin === '5';
}

/** The MTI answering `mti` (a request or its repeat), from `messagePairs`: '0100' -> '0110', '0421' -> '0430'. */
export function responseMtiFor(mti: string): string {
  parseMti(mti);
  const pair = messagePairs.find((candidate) => candidate.request === mti || candidate.repeat === mti);
  if (pair === undefined) {
    throw new Iso8583Error('ERR_ISO8583_MTI', `MTI ${mti} is not a request in the message pair table`);
  }
  return pair.response;
}
