import type { Writable } from 'node:stream';
import type { AttestationVerifier } from '@amulet/pki';
import type { EventHub } from './event-hub.ts';
import type { RandomSource, ScryptParams } from './secrets.ts';
import type { SessionCache } from './session-cache.ts';
import type { TspClient } from './tsp-client.ts';
import type { Card, Device, Tenant } from './types.ts';
import type { Owner, WalletStore } from './wallet-store.ts';

export interface WalletOptions {
  readonly store: WalletStore;
  readonly tsp: TspClient;
  readonly now: () => Date;
  readonly random: RandomSource;
  /** The platform operator's credential (creates tenants). */
  readonly operatorCredential: string;
  /** The TSP's Standard Webhooks secret (`whsec_...`). */
  readonly webhookSecret: string;
  /** Serial numbers (hex) of revoked device certificates, e.g. from the root of trust's CRL. */
  readonly revokedDeviceSerials?: readonly string[];
  readonly scrypt?: ScryptParams;
  /** Where the JSON logs go (pino); none when absent. */
  readonly logStream?: Writable;
  readonly bodyLimitBytes?: number;
  readonly sessionTtlSeconds?: number;
  /**
   * How long a session read from the store is reused without reading it again (default 5 000 ms;
   * 0 reads every time). A logout on another instance takes effect within this time.
   */
  readonly sessionCacheMs?: number;
  readonly loginFailuresMax?: number;
  readonly lockoutSeconds?: number;
  readonly challengeTtlSeconds?: number;
}

/** Who is calling, once authenticated. */
export type Principal =
  | {
      readonly kind: 'user';
      readonly tenantId: string;
      readonly userId: string;
      readonly sessionHash: string;
    }
  | { readonly kind: 'oem'; readonly tenantId: string }
  | { readonly kind: 'operator' }
  | { readonly kind: 'anonymous' };

export type AuthKind = 'user' | 'oem' | 'operator' | 'none' | 'webhook';

export interface WalletRouteConfig {
  readonly auth: AuthKind;
  /**
   * false: a POST that is not idempotent by key (it issues a credential, or is a webhook).
   * 'inline': the handler claims the key, does its work and stores its answer in one transaction.
   */
  readonly idempotency?: boolean | 'inline';
}

export interface WalletContext {
  readonly options: WalletOptions;
  readonly store: WalletStore;
  readonly tsp: TspClient;
  readonly hub: EventHub;
  readonly revoked: ReadonlySet<string>;
  readonly sessions: SessionCache;
  attestationVerifier(tenant: Tenant): AttestationVerifier;
  id(prefix: string): string;
  nowMs(): number;
  pushCard(card: Card, type?: string): void;
  pushDevice(device: Device, owner: Owner, type?: string): void;
}

export function cardView(card: Card) {
  return {
    id: card.id,
    deviceId: card.deviceId,
    tokenReference: card.tokenReference,
    last4: card.last4,
    network: card.network,
    artUrl: card.artUrl,
    issuerName: card.issuerName,
    status: card.status,
    isDefault: card.isDefault,
    createdAt: card.createdAt,
    updatedAt: card.updatedAt,
  };
}

export function deviceView(device: Device) {
  return {
    id: device.id,
    model: device.model,
    oemId: device.oemId,
    certificateSerial: device.certSerial,
    state: device.state,
    pairedAt: device.pairedAt,
    updatedAt: device.updatedAt,
  };
}

export function tenantView(tenant: Tenant) {
  return {
    id: tenant.id,
    name: tenant.name,
    brand: tenant.brand,
    pinPolicy: tenant.pinPolicy,
    allowedNetworks: tenant.allowedNetworks,
    trid: tenant.trid,
    pkiTenantId: tenant.pkiTenantId,
    createdAt: tenant.createdAt,
    updatedAt: tenant.updatedAt,
  };
}
