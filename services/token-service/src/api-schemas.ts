// The HTTP contract of the token service (TypeBox, JSON Schema 2020-12 compatible): what the
// wallet sends and receives. Destined for packages/contracts; kept here until it moves.
import { type Static, Type } from '@sinclair/typebox';

export const Trid = Type.String({
  pattern: '^[0-9]{11}$',
  description: 'Token requestor ID (EMVCo, 11 digits)',
});
export const TokenId = Type.String({
  pattern: '^tok_[0-9a-f]{24}$',
  description: "The TSP's token reference",
});
const Actor = Type.Union([
  Type.Literal('cardholder'),
  Type.Literal('wallet'),
  Type.Literal('issuer'),
  Type.Literal('tsp'),
]);

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    code: Type.String(),
    instance: Type.Optional(Type.String()),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);
export type Problem = Static<typeof Problem>;

export const TokenView = Type.Object(
  {
    tokenId: TokenId,
    status: Type.Union([
      Type.Literal('inactive'),
      Type.Literal('active'),
      Type.Literal('suspended'),
      Type.Literal('deleted'),
    ]),
    lastFour: Type.String({ pattern: '^[0-9]{4}$' }),
    tokenExpiry: Type.String({ pattern: '^[0-9]{4}$', description: 'YYMM' }),
    par: Type.String({ description: 'Payment Account Reference, 29 characters' }),
    requestorTrid: Trid,
    deviceId: Type.String({ description: 'SHA-256 of the device certificate, hex' }),
    assuranceMethod: Type.String(),
    provisioning: Type.String(),
    createdAt: Type.String(),
  },
  { $id: 'TokenView' },
);
export type TokenViewBody = Static<typeof TokenView>;

export const TokenizeRequest = Type.Object(
  {
    encryptedCard: Type.String({
      minLength: 1,
      maxLength: 8192,
      description: 'Compact JWE (RFC 7516), ECDH-ES+A256KW / A256GCM',
    }),
    deviceCertificateChain: Type.Array(Type.String({ contentEncoding: 'base64', maxLength: 8192 }), {
      minItems: 1,
      maxItems: 4,
      description: 'DER certificates, base64, leaf first',
    }),
    label: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: false },
);
export type TokenizeRequest = Static<typeof TokenizeRequest>;

export const TokenizeResponse = Type.Object({
  status: Type.Union([Type.Literal('provisioning'), Type.Literal('step-up'), Type.Literal('declined')]),
  token: Type.Optional(TokenView),
  reason: Type.Optional(Type.String()),
});
export type TokenizeResponse = Static<typeof TokenizeResponse>;

export const OtpRequest = Type.Object(
  { otp: Type.String({ pattern: '^[0-9A-Za-z]{4,12}$' }) },
  { additionalProperties: false },
);

export const TokenList = Type.Object({ tokens: Type.Array(TokenView) });

export const TokenSearchQuery = Type.Object(
  {
    deviceId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    par: Type.Optional(Type.String({ pattern: '^[0-9A-Z]{29}$' })),
  },
  { additionalProperties: false },
);

export const StatusChangeRequest = Type.Object(
  {
    tokenIds: Type.Array(TokenId, { minItems: 1, maxItems: 1000 }),
    action: Type.Union([Type.Literal('suspend'), Type.Literal('resume'), Type.Literal('delete')]),
    actor: Actor,
    reason: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type StatusChangeRequest = Static<typeof StatusChangeRequest>;

export const StatusChangeResponse = Type.Object({
  results: Type.Array(
    Type.Object({
      tokenId: Type.String(),
      ok: Type.Boolean(),
      status: Type.Optional(Type.String()),
      problem: Type.Optional(Type.String()),
    }),
  ),
});

export const PanUpdateRequest = Type.Object(
  {
    currentPan: Type.String({ pattern: '^[0-9]{13,19}$' }),
    newPan: Type.String({ pattern: '^[0-9]{13,19}$' }),
    newExpiry: Type.String({ pattern: '^[0-9]{4}$' }),
  },
  { additionalProperties: false },
);
export type PanUpdateRequest = Static<typeof PanUpdateRequest>;

export const PanUpdateResponse = Type.Object({ par: Type.String(), tokens: Type.Integer() });

export const CardMetadata = Type.Object(
  {
    art: Type.Optional(Type.String({ maxLength: 2048 })),
    issuerName: Type.Optional(Type.String({ maxLength: 200 })),
    terms: Type.Optional(Type.String({ maxLength: 2048 })),
    foregroundColor: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: false },
);
export type CardMetadata = Static<typeof CardMetadata>;

export const Jwk = Type.Object({
  kty: Type.String(),
  crv: Type.String(),
  x: Type.String(),
  y: Type.String(),
  use: Type.String(),
  alg: Type.String(),
  kid: Type.String(),
});

export const WebhookSubscriptionRequest = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', maxLength: 2048 }),
    eventTypes: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
  },
  { additionalProperties: false },
);
export type WebhookSubscriptionRequest = Static<typeof WebhookSubscriptionRequest>;

export const WebhookSubscription = Type.Object({
  id: Type.String(),
  url: Type.String(),
  eventTypes: Type.Array(Type.String()),
  /** Standard Webhooks secret (`whsec_` + base64); shown once, at creation. */
  secret: Type.Optional(Type.String()),
});

export const WebhookReplayResponse = Type.Object({ eventId: Type.String(), deliveries: Type.Integer() });

export const ProvisioningStep = Type.Object({
  state: Type.Union([Type.Literal('command'), Type.Literal('confirmed'), Type.Literal('failed')]),
  command: Type.Optional(
    Type.String({ contentEncoding: 'base64', description: 'Next command APDU, opaque' }),
  ),
  token: Type.Optional(TokenView),
  reason: Type.Optional(Type.String()),
});

export const RelayRequest = Type.Object(
  {
    response: Type.String({
      contentEncoding: 'base64',
      maxLength: 2048,
      description: 'Response APDU, opaque',
    }),
  },
  { additionalProperties: false },
);
export type RelayRequest = Static<typeof RelayRequest>;
