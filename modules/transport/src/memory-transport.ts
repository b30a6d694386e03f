import { type Clock, systemClock } from './clock.ts';
import { type Faults, faultPlanner } from './fault-plan.ts';
import { checkMaxFrameBytes, defaultMaxFrameBytes } from './length-header.ts';
import { MemoryLink } from './memory-link.ts';
import type { MessageCodec } from './message-codec.ts';
import { ReconnectingClient } from './reconnecting-client.ts';
import { seededRandom } from './seeded-random.ts';
import { ServerCore } from './server-core.ts';
import type {
  ClientOptions,
  ServerOptions,
  Transport,
  TransportClient,
  TransportServer,
} from './transport.ts';
import { TransportError } from './transport-error.ts';

export interface MemoryEndpoint {
  readonly name: string;
}

export interface MemoryTransportOptions<M> {
  readonly codec: MessageCodec<M>;
  /** Largest message, as for TCP (binary-2 header limit); default 8192 bytes. */
  readonly maxFrameBytes?: number;
  /** Times the delayed deliveries; default the system clock. */
  readonly clock?: Clock;
  /** Drives the faults; default a PRNG seeded with `seed`. */
  readonly random?: () => number;
  /** Seed for the default PRNG; default 1. */
  readonly seed?: number;
  /** Faults on messages from clients to servers. */
  readonly toServer?: Faults;
  /** Faults on messages from servers to clients. */
  readonly toClient?: Faults;
}

/**
 * Clients and servers in one process, with the same interfaces as TCP. Messages still go through
 * the codec (so nothing is shared between the ends) and may suffer seeded faults.
 */
export function createMemoryTransport<M>(options: MemoryTransportOptions<M>): Transport<M, MemoryEndpoint> {
  const maxFrameBytes = checkMaxFrameBytes('binary-2', options.maxFrameBytes ?? defaultMaxFrameBytes);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? seededRandom(options.seed ?? 1);
  const toServer = faultPlanner(options.toServer ?? {}, random);
  const toClient = faultPlanner(options.toClient ?? {}, random);
  const servers = new Map<string, ServerCore<M>>();
  let serverCount = 0;
  let clientCount = 0;

  return {
    async listen(
      serverOptions: ServerOptions<M>,
      endpoint?: MemoryEndpoint,
    ): Promise<TransportServer<M, MemoryEndpoint>> {
      const name = endpoint?.name ?? `memory-server-${++serverCount}`;
      if (servers.has(name))
        throw new TransportError('ERR_OPTIONS', 'a memory server already listens at this name');
      const core = new ServerCore<M>({ codec: options.codec, maxFrameBytes, name }, serverOptions);
      servers.set(name, core);
      return {
        endpoint: { name },
        metrics: core.metrics,
        connections: () => core.connections(),
        close: () =>
          core.close(async () => {
            if (servers.get(name) === core) servers.delete(name);
          }),
      };
    },

    connect(endpoint: MemoryEndpoint, clientOptions: ClientOptions<M> = {}): TransportClient<M> {
      const clientName = `memory-client-${++clientCount}`;
      const dial = async () => {
        const core = servers.get(endpoint.name);
        if (core === undefined || core.isClosing) {
          throw new TransportError('ERR_NOT_CONNECTED', 'no memory server listens at this name');
        }
        const [client, server] = MemoryLink.pair(clientName, endpoint.name, toServer, toClient, clock);
        core.accept(server);
        return client;
      };
      return new ReconnectingClient<M>(
        { codec: options.codec, maxFrameBytes, dial, name: clientName },
        clientOptions,
      );
    },
  };
}
