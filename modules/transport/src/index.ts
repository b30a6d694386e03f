export { type BackoffOptions, backoffDelay } from './backoff-delay.ts';
export { type Clock, systemClock, type TimerHandle } from './clock.ts';
export { encodeFrame, type FrameOptions } from './encode-frame.ts';
export { type DelayDistribution, type Faults, maxFaultDelayMs } from './fault-plan.ts';
export { FrameDecoder } from './frame-decoder.ts';
export { interceptRequests } from './intercept-requests.ts';
export { defaultLengthHeader, defaultMaxFrameBytes, type LengthHeader } from './length-header.ts';
export { ManualClock } from './manual-clock.ts';
export {
  createMemoryTransport,
  type MemoryEndpoint,
  type MemoryTransportOptions,
} from './memory-transport.ts';
export type { MessageCodec } from './message-codec.ts';
export { seededRandom } from './seeded-random.ts';
export {
  type Acknowledged,
  type DeliverAdviceOptions,
  deliverAdvice,
  type SendUntilAcknowledgedOptions,
  sendUntilAcknowledged,
} from './send-until-acknowledged.ts';
export { createTcpTransport, type TcpEndpoint, type TcpTransportOptions } from './tcp-transport.ts';
export type {
  ClientOptions,
  Connection,
  EndpointOptions,
  HandlerContext,
  MalformedHandler,
  MessageHandler,
  ReconnectOptions,
  RequestOptions,
  ServerOptions,
  Transport,
  TransportClient,
  TransportServer,
} from './transport.ts';
export {
  isTransportError,
  TransportError,
  type TransportErrorCode,
  transportErrorCodes,
} from './transport-error.ts';
export type { TransportEvent, TransportEventListener } from './transport-event.ts';
export { createTransportMetrics, type TransportMetrics } from './transport-metrics.ts';
