import { Field, interchangeCodec, interchangeSpec, Mti, ResponseCode } from '@amulet/contracts';
import { createMessage, type FieldValue, type Iso8583Message } from '@amulet/iso8583';
import { createTcpTransport, type TcpEndpoint, type TransportServer } from '@amulet/transport';
import type { Authorizer } from './authorizer.ts';

/**
 * The token service's ISO 8583 port: the network sends each 0100 for a token BIN and gets the
 * 0110 with the verdict (and, when approved, the real PAN). Other message types get '12'.
 */
export async function startAuthorizationServer(
  authorizer: Authorizer,
  endpoint: TcpEndpoint = { host: '127.0.0.1', port: 0 },
): Promise<TransportServer<Iso8583Message, TcpEndpoint>> {
  const transport = createTcpTransport({ codec: interchangeCodec });
  return transport.listen(
    {
      handler: async (request) => {
        if (request.mti === Mti.authorizationRequest) return authorizer.authorize(request);
        const fields = new Map<number, FieldValue>();
        for (const n of [Field.stan, Field.terminalId, Field.acquiringInstitutionId]) {
          const v = request.fields.get(n);
          if (v !== undefined) fields.set(n, v);
        }
        fields.set(Field.responseCode, ResponseCode.invalidTransaction);
        const mti = `${request.mti.slice(0, 2)}${Number(request.mti[2]) + 1}${request.mti[3]}`;
        return createMessage(interchangeSpec, mti, fields);
      },
      maxHandlersInFlight: 256,
    },
    endpoint,
  );
}
