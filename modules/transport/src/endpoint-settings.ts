import { type Clock, systemClock } from './clock.ts';
import type { EndpointOptions } from './transport.ts';
import { TransportError } from './transport-error.ts';
import type { TransportEvent } from './transport-event.ts';

/** EndpointOptions with defaults applied and ranges checked. */
export interface EndpointSettings {
  readonly clock: Clock;
  readonly emit: (event: TransportEvent) => void;
  readonly maxInFlight: number;
  readonly maxHandlersInFlight: number;
  readonly defaultTimeoutMs: number;
  readonly lateResponseWindowMs: number;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TransportError('ERR_OPTIONS', `${name} must be a positive integer`);
  }
  return value;
}

export function endpointSettings<M>(options: EndpointOptions<M>): EndpointSettings {
  const listener = options.onEvent;
  return {
    clock: options.clock ?? systemClock,
    // A throwing listener must not break the connection that reported the event.
    emit: (event) => {
      try {
        listener?.(event);
      } catch {}
    },
    maxInFlight: positiveInteger('maxInFlight', options.maxInFlight ?? 256),
    maxHandlersInFlight: positiveInteger('maxHandlersInFlight', options.maxHandlersInFlight ?? 64),
    defaultTimeoutMs: positiveInteger('defaultTimeoutMs', options.defaultTimeoutMs ?? 30_000),
    lateResponseWindowMs: positiveInteger('lateResponseWindowMs', options.lateResponseWindowMs ?? 60_000),
  };
}
