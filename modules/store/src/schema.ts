/** Row shapes as stored, shared by both dialects (Kysely's table types). Times are ISO 8601 text. */
export interface TokenRequestorTable {
  trid: string;
  name: string;
  tenant: string;
  created_at: string;
}

export interface TokenBinRangeTable {
  id: string;
  network: string;
  bin_low: string;
  bin_high: string;
  token_length: number;
}

export interface IssuerTable {
  id: string;
  name: string;
  idv_endpoint: string;
  auth_endpoint: string;
}

export interface IssuerBinTable {
  bin: string;
  issuer_id: string;
}

export interface PanRecordTable {
  id: string;
  pan_lookup: Uint8Array;
  pan_ciphertext: Uint8Array;
  wrapping_key_id: string;
  wrapped_data_key: Uint8Array;
  par: string;
  created_at: string;
  updated_at: string;
}

export interface TokenTable {
  id: string;
  dpan: string;
  token_expiry: string;
  status: string;
  status_version: number;
  requestor_trid: string;
  pan_record_id: string;
  device_cert_serial: string;
  device_cert_fingerprint: string;
  domain_controls: string;
  assurance_method: string;
  created_at: string;
}

export interface TokenStatusHistoryTable {
  token_id: string;
  status_version: number;
  from_status: string;
  to_status: string;
  actor: string;
  reason: string;
  at: string;
}

export interface AtcMarkTable {
  token_id: string;
  high_water: number;
}

export interface AtcVerdictTable {
  token_id: string;
  atc: number;
  verdict: string;
  reasons: string;
  status_version: number;
  at: string;
}

export interface IdempotencyTable {
  scope: string;
  idem_key: string;
  request_hash: string;
  state: string;
  response: string | null;
  created_at: string;
}

export interface AuditLogTable {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface TokenCardTable {
  token_id: string;
  cvn: number;
  psn: string;
  imk_key_id: string;
  provisioning: string;
  updated_at: string;
}

export interface CardMetadataTable {
  pan_record_id: string;
  metadata: string;
  updated_at: string;
}

export interface WebhookSubscriptionTable {
  id: string;
  requestor_trid: string;
  url: string;
  event_types: string;
  created_at: string;
}

export interface WebhookEventTable {
  id: string;
  requestor_trid: string;
  event_type: string;
  payload: string;
  created_at: string;
}

export interface WebhookDeliveryTable {
  event_id: string;
  subscription_id: string;
  state: string;
  attempts: number;
  next_attempt_at: string;
  last_status: number;
}

export interface MigrationTable {
  id: number;
  name: string;
  applied_at: string;
}

export interface Schema {
  token_requestors: TokenRequestorTable;
  token_bin_ranges: TokenBinRangeTable;
  issuers: IssuerTable;
  issuer_bins: IssuerBinTable;
  pan_records: PanRecordTable;
  tokens: TokenTable;
  token_status_history: TokenStatusHistoryTable;
  atc_marks: AtcMarkTable;
  atc_verdicts: AtcVerdictTable;
  idempotency_keys: IdempotencyTable;
  audit_log: AuditLogTable;
  store_migrations: MigrationTable;
  token_cards: TokenCardTable;
  card_metadata: CardMetadataTable;
  webhook_subscriptions: WebhookSubscriptionTable;
  webhook_events: WebhookEventTable;
  webhook_deliveries: WebhookDeliveryTable;
}
