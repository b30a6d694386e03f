import { TransportError } from './transport-error.ts';

/** How long a delivery takes. Every distribution has a ceiling. */
export type DelayDistribution =
  | { readonly kind: 'fixed'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: 'exponential'; readonly meanMs: number; readonly maxMs: number };

/** Faults applied to every message sent in one direction of a memory connection. */
export interface Faults {
  readonly delay?: DelayDistribution;
  /** Probability that a message is lost, 0 to 1. */
  readonly lossRate?: number;
  /** Probability that a message is delivered twice (never more), 0 to 1. */
  readonly duplicateRate?: number;
  /** Probability that a message is held back by `reorderDelayMs` more, so later ones overtake it. */
  readonly reorderRate?: number;
  /** Default 10 ms. */
  readonly reorderDelayMs?: number;
}

/** Ceiling on any configured delay, so a fault can slow a test but never stall it. */
export const maxFaultDelayMs = 60_000;

/** The plan for one message: the delays of its deliveries (empty: lost; two: duplicated). */
export type DeliveryPlan = readonly number[];

function checkRate(name: string, value: number | undefined): number {
  const rate = value ?? 0;
  if (!(rate >= 0 && rate <= 1)) throw new TransportError('ERR_OPTIONS', `${name} must be from 0 to 1`);
  return rate;
}

function checkDelay(name: string, value: number): number {
  if (!(value >= 0 && value <= maxFaultDelayMs)) {
    throw new TransportError('ERR_OPTIONS', `${name} must be from 0 to ${maxFaultDelayMs} ms`);
  }
  return value;
}

/**
 * Turns fault settings and a seeded random source into per-message delivery plans. Random draws
 * happen in a fixed order (loss, duplicate, then per copy delay and reorder), so a seed replays.
 */
export function faultPlanner(faults: Faults, random: () => number): () => DeliveryPlan {
  const lossRate = checkRate('lossRate', faults.lossRate);
  const duplicateRate = checkRate('duplicateRate', faults.duplicateRate);
  const reorderRate = checkRate('reorderRate', faults.reorderRate);
  const reorderDelayMs = checkDelay('reorderDelayMs', faults.reorderDelayMs ?? 10);
  const sampleDelay = delaySampler(faults.delay ?? { kind: 'fixed', ms: 0 }, random);
  return () => {
    if (random() < lossRate) return [];
    const copies = random() < duplicateRate ? 2 : 1;
    const plan: number[] = [];
    for (let i = 0; i < copies; i++) {
      const delay = sampleDelay();
      plan.push(random() < reorderRate ? delay + reorderDelayMs : delay);
    }
    return plan;
  };
}

function delaySampler(delay: DelayDistribution, random: () => number): () => number {
  switch (delay.kind) {
    case 'fixed': {
      const ms = checkDelay('delay.ms', delay.ms);
      return () => ms;
    }
    case 'uniform': {
      const min = checkDelay('delay.minMs', delay.minMs);
      const max = checkDelay('delay.maxMs', delay.maxMs);
      if (min > max) throw new TransportError('ERR_OPTIONS', 'delay.minMs must not exceed delay.maxMs');
      return () => Math.round(min + (max - min) * random());
    }
    case 'exponential': {
      const mean = checkDelay('delay.meanMs', delay.meanMs);
      const max = checkDelay('delay.maxMs', delay.maxMs);
      return () => Math.min(max, Math.round(-mean * Math.log(1 - random())));
    }
  }
}
