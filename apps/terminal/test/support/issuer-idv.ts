import type { Iso8583Message } from '@amulet/iso8583';
import { type Issuer, iso8583Codec as issuerCodec, listenIssuer } from '@amulet/issuer';
import {
  type IdvDecision,
  type IdvGateway,
  type IdvRequest,
  idvDecisionOf,
  idvRequestMessage,
  type World,
} from '@amulet/token-service';
import { createMemoryTransport, type TransportClient } from '@amulet/transport';

/**
 * ID&V answered by the real issuer's ISO 8583 endpoint (listenIssuer) over a fault-free in-memory
 * transport: the token service's 0100 account verification (docs/token-service.md, "ID&V").
 */
export class IssuerIdv implements IdvGateway {
  #stan = 0;
  private constructor(
    private readonly client: TransportClient<Iso8583Message>,
    private readonly world: World,
    private readonly onClose: () => Promise<void>,
  ) {}
  /** In process, over a fault-free in-memory transport to the issuer's endpoint. */
  static async inMemory(issuer: Issuer, world: World): Promise<IssuerIdv> {
    const transport = createMemoryTransport<Iso8583Message>({ codec: issuerCodec });
    const server = await listenIssuer(issuer, transport, { name: 'issuer-idv' });
    const client = transport.connect({ name: 'issuer-idv' });
    await client.connected();
    return new IssuerIdv(client, world, async () => {
      await client.close();
      await server.close();
    });
  }
  /** Over a client of the issuer's ISO 8583 endpoint elsewhere (bench/authorize.ts: another process). */
  static over(client: TransportClient<Iso8583Message>, world: World): IssuerIdv {
    return new IssuerIdv(client, world, () => client.close());
  }
  async ask(_issuer: unknown, request: IdvRequest): Promise<IdvDecision> {
    this.#stan = (this.#stan % 999_999) + 1;
    const message = idvRequestMessage(
      request,
      String(this.#stan).padStart(6, '0'),
      this.world.now(),
      '99990001',
    );
    return idvDecisionOf(await this.client.request(message, { timeoutMs: 10_000 }), request.reason);
  }
  close(): Promise<void> {
    return this.onClose();
  }
}
