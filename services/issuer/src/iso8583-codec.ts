import { interchangeCodec } from '@amulet/contracts';
import type { Iso8583Message } from '@amulet/iso8583';
import type { MessageCodec } from '@amulet/transport';

/**
 * ISO 8583:1987 (contracts.interchangeSpec) for @amulet/transport: the shared
 * `contracts.interchangeCodec`, which pairs a request and its response by fields 32, 41, 11 and
 * the MTI's exchange (class and request/advice pair), typed as the transport's codec.
 */
export const iso8583Codec: MessageCodec<Iso8583Message> = interchangeCodec;
