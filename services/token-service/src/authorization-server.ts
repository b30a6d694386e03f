import { Field, interchangeCodec, interchangeSpec, Mti, ResponseCode } from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';
import {
  createTcpTransport,
  type MessageHandler,
  type TcpEndpoint,
  type TransportServer,
} from '@amulet/transport';
import type { Authorizer } from './authorizer.ts';

/**
 * What the token service's ISO 8583 port answers: each 0100 for a token BIN with the 0110 of its
 * verdict (and, when approved, the real PAN); a reversal the network cannot route by itself
 * (0400, 0420, 0421), or a stand-in advice it kept without the real PAN (0120, 0121), with the
 * real PAN of the approved original it names (Authorizer `locateOriginal`); any other message
 * type with '12'.
 */
export function authorizationHandler(authorizer: Authorizer): MessageHandler<Iso8583Message> {
  return async (request) => {
    switch (request.mti) {
      case Mti.authorizationRequest:
        return authorizer.authorize(request);
      case Mti.reversalRequest:
      case Mti.reversalAdvice:
      case Mti.reversalAdviceRepeat:
      case Mti.authorizationAdvice:
      case Mti.authorizationAdviceRepeat:
        return authorizer.locateOriginal(request);
      default: {
        const fields = new Map<number, FieldValue>();
        for (const n of [Field.stan, Field.terminalId, Field.acquiringInstitutionId]) {
          const v = request.fields.get(n);
          if (v !== undefined) fields.set(n, v);
        }
        fields.set(Field.responseCode, ResponseCode.invalidTransaction);
        const mti = `${request.mti.slice(0, 2)}${Number(request.mti[2]) + 1}${request.mti[3]}`;
        return createMessage(interchangeSpec, mti, fields);
      }
    }
  };
}

/** The token service's ISO 8583 port on TCP (authorizationHandler). */
export async function startAuthorizationServer(
  authorizer: Authorizer,
  endpoint: TcpEndpoint = { host: '127.0.0.1', port: 0 },
): Promise<TransportServer<Iso8583Message, TcpEndpoint>> {
  const transport = createTcpTransport({ codec: interchangeCodec });
  return transport.listen({ handler: authorizationHandler(authorizer), maxHandlersInFlight: 256 }, endpoint);
}
