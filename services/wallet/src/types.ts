/** What a tenant (an OEM) shows its users under its own brand. */
export interface Brand {
  readonly displayName: string;
  readonly primaryColour: string;
  readonly accentColour: string;
  readonly logoUrl: string;
}

/** The CDCVM session bounds and the wrong-PIN limit the wearable enforces (DESIGN.md flow 6). */
export interface PinPolicy {
  readonly sessionSeconds: number;
  readonly sessionTaps: number;
  /** Cumulative amount in minor units. */
  readonly sessionAmountMinor: number;
  readonly wrongPinLimit: number;
  readonly pinLength: number;
}

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly brand: Brand;
  readonly pinPolicy: PinPolicy;
  readonly allowedNetworks: readonly string[];
  readonly trid: string;
  readonly pkiTenantId: string;
  readonly deviceCaPem: string;
  readonly apiKeyId: string;
  readonly apiKeyHash: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface User {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly failedLogins: number;
  readonly lockedUntil: string | null;
  readonly createdAt: string;
}

export interface Session {
  readonly tenantId: string;
  readonly userId: string;
  readonly expiresAt: string;
}

export const DEVICE_STATES = ['active', 'lost', 'wiped'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export interface Device {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string | null;
  readonly certSerial: string;
  readonly certFingerprint: string;
  readonly chain: readonly string[];
  readonly model: string;
  readonly oemId: string;
  readonly state: DeviceState;
  readonly stateVersion: number;
  readonly pairedAt: string;
  readonly attestedAt: string;
  readonly updatedAt: string;
}

export const CARD_STATUSES = ['pending-otp', 'provisioning', 'active', 'suspended', 'removed'] as const;
export type CardStatus = (typeof CARD_STATUSES)[number];

/** A card as the wallet knows it: a token reference and what may be shown, never a card number. */
export interface Card {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly tokenReference: string;
  readonly last4: string;
  readonly network: string;
  readonly artUrl: string;
  readonly issuerName: string;
  readonly status: CardStatus;
  readonly isDefault: boolean;
  readonly tspStatusVersion: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const DEVICE_COMMAND_KINDS = ['lock', 'unlock', 'set-default', 'delete-applet', 'wipe'] as const;
export type DeviceCommandKind = (typeof DEVICE_COMMAND_KINDS)[number];

export interface DeviceCommand {
  readonly id: string;
  readonly tenantId: string;
  readonly deviceId: string;
  readonly kind: DeviceCommandKind;
  readonly tokenReference: string | null;
  readonly createdAt: string;
  readonly acknowledgedAt: string | null;
}

export type WebhookOutcome = 'applied' | 'stale' | 'unknown-token' | 'notified';
