/**
 * The wallet's tables (Kysely types). What the wallet may hold and nothing more (DESIGN.md,
 * invariant 1): no column can carry a PAN, DPAN, CVV or PIN. Booleans are INTEGER 0/1 and times
 * ISO 8601 text, so both dialects read the same values.
 */
export interface TenantTable {
  id: string;
  name: string;
  /** JSON Brand. */
  brand: string;
  /** JSON PinPolicy. */
  pin_policy: string;
  /** JSON string[]. */
  allowed_networks: string;
  /** The 11-digit token requestor ID the tenant tokenizes under (EMVCo Payment Tokenisation). */
  trid: string;
  /** The tenant named in its device CA's tenant extension. */
  pki_tenant_id: string;
  device_ca_pem: string;
  api_key_id: string;
  /** scrypt hash of the OEM back-office secret. */
  api_key_hash: string;
  created_at: string;
  updated_at: string;
}

export interface UserTable {
  id: string;
  tenant_id: string;
  email: string;
  password_hash: string;
  failed_logins: number;
  locked_until: string | null;
  created_at: string;
}

export interface SessionTable {
  /** SHA-256 of the session credential: the credential itself is never stored. */
  id_hash: string;
  tenant_id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

export interface ChallengeTable {
  /** SHA-256 of the nonce. */
  nonce_hash: string;
  tenant_id: string;
  user_id: string;
  purpose: string;
  expires_at: string;
}

export interface DeviceTable {
  id: string;
  tenant_id: string;
  user_id: string | null;
  cert_serial: string;
  cert_fingerprint: string;
  /** JSON base64 DER list: the device certificate, then its device CA. */
  chain: string;
  model: string;
  oem_id: string;
  state: string;
  state_version: number;
  paired_at: string;
  attested_at: string;
  updated_at: string;
}

export interface CardTable {
  id: string;
  tenant_id: string;
  user_id: string;
  device_id: string;
  token_reference: string;
  last4: string;
  network: string;
  art_url: string;
  issuer_name: string;
  status: string;
  is_default: number;
  tsp_status_version: number;
  created_at: string;
  updated_at: string;
}

export interface IdempotencyTable {
  scope: string;
  idem_key: string;
  request_hash: string;
  state: string;
  status_code: number | null;
  response: string | null;
  created_at: string;
}

export interface WebhookInboxTable {
  webhook_id: string;
  event_type: string;
  token_reference: string | null;
  outcome: string;
  received_at: string;
}

export interface DeviceCommandTable {
  id: string;
  tenant_id: string;
  device_id: string;
  kind: string;
  token_reference: string | null;
  created_at: string;
  acknowledged_at: string | null;
}

export interface WalletSchema {
  wallet_tenants: TenantTable;
  wallet_users: UserTable;
  wallet_sessions: SessionTable;
  wallet_challenges: ChallengeTable;
  wallet_devices: DeviceTable;
  wallet_cards: CardTable;
  wallet_idempotency: IdempotencyTable;
  wallet_webhook_inbox: WebhookInboxTable;
  wallet_device_commands: DeviceCommandTable;
  store_migrations: { id: number; name: string; applied_at: string };
}
