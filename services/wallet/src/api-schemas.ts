import { type TObject, type TProperties, Type } from '@sinclair/typebox';

/** Every body object refuses unknown fields (strict input, DESIGN.md "validate at the boundary"). */
const Strict = <T extends TProperties>(properties: T): TObject<T> =>
  Type.Object(properties, { additionalProperties: false });

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const Base64 = (maxLength: number) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9+/_=-]+$' });
const Hex = (maxLength: number) => Type.String({ maxLength, pattern: '^([0-9A-Fa-f]{2})*$' });
const Colour = Type.String({ pattern: '^#[0-9A-Fa-f]{6}$' });
const Url = Type.String({ minLength: 1, maxLength: 512, pattern: '^https://[^\\s]+$' });
export const Network = Type.Union([
  Type.Literal('visa'),
  Type.Literal('mastercard'),
  Type.Literal('amex'),
  Type.Literal('discover'),
  Type.Literal('closed-loop'),
]);

export const BrandSchema = Strict({
  displayName: Type.String({ minLength: 1, maxLength: 64 }),
  primaryColour: Colour,
  accentColour: Colour,
  logoUrl: Url,
});

export const PinPolicySchema = Strict({
  sessionSeconds: Type.Integer({ minimum: 30, maximum: 86_400 }),
  sessionTaps: Type.Integer({ minimum: 1, maximum: 100 }),
  sessionAmountMinor: Type.Integer({ minimum: 0, maximum: 100_000_000 }),
  wrongPinLimit: Type.Integer({ minimum: 3, maximum: 10 }),
  pinLength: Type.Integer({ minimum: 4, maximum: 12 }),
});

export const CreateTenantBody = Strict({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  brand: BrandSchema,
  pinPolicy: PinPolicySchema,
  allowedNetworks: Type.Array(Network, { minItems: 1, maxItems: 5, uniqueItems: true }),
  trid: Type.String({ pattern: '^\\d{11}$' }),
  pkiTenantId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 ._:-]+$' }),
  deviceCaPem: Type.String({ minLength: 1, maxLength: 8192 }),
});

export const TenantSettingsBody = Strict({
  brand: Type.Optional(BrandSchema),
  pinPolicy: Type.Optional(PinPolicySchema),
  allowedNetworks: Type.Optional(Type.Array(Network, { minItems: 1, maxItems: 5, uniqueItems: true })),
});

export const TenantView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  brand: BrandSchema,
  pinPolicy: PinPolicySchema,
  allowedNetworks: Type.Array(Type.String()),
  trid: Type.String(),
  pkiTenantId: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const Email = Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' });
export const Password = Type.String({ minLength: 10, maxLength: 128 });

export const CredentialsBody = Strict({ email: Email, password: Password });

export const UserView = Type.Object({ id: Type.String(), email: Type.String(), createdAt: Type.String() });

export const SessionView = Type.Object({ session: Type.String(), expiresAt: Type.String() });

export const ChallengeBody = Strict({
  purpose: Type.Union([Type.Literal('register'), Type.Literal('found')]),
});
export const ChallengeView = Type.Object({ nonce: Type.String(), expiresAt: Type.String() });

export const RegisterDeviceBody = Strict({
  /** The device certificate, then its device CA: base64 DER. */
  certificateChain: Type.Array(Base64(4096), { minItems: 1, maxItems: 3 }),
  /** The device's DER ECDSA signature over the attestation message. */
  signature: Base64(200),
  nonce: Base64(100),
  /** The secure link's short authentication string the user confirmed on both screens. */
  sas: Type.String({ pattern: '^\\d{6}$' }),
  /** When the secure element signed: its context (DF70 the wallet's context, E2 its state), base64. */
  context: Type.Optional(Base64(400)),
});

export const AttestationBody = Strict({
  signature: Base64(200),
  nonce: Base64(100),
  context: Type.Optional(Base64(400)),
});

export const DeviceView = Type.Object({
  id: Type.String(),
  model: Type.String(),
  oemId: Type.String(),
  certificateSerial: Type.String(),
  state: Type.String(),
  pairedAt: Type.String(),
  updatedAt: Type.String(),
});

export const CardView = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  tokenReference: Type.String(),
  last4: Type.String(),
  network: Type.String(),
  artUrl: Type.String(),
  issuerName: Type.String(),
  status: Type.String(),
  isDefault: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const DigitizeBody = Strict({
  /** Compact JWE (RFC 7516 section 7.1): five base64url parts. The wallet cannot decrypt it. */
  encryptedCard: Type.String({
    minLength: 20,
    maxLength: 8192,
    pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
  }),
  network: Network,
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 16, pattern: '^[A-Za-z0-9 ._-]+$' })),
});

export const OtpBody = Strict({ otp: Type.String({ pattern: '^\\d{6,8}$' }) });

export const ProvisioningBody = Strict({
  /** Response APDUs from the secure element, hex, relayed as opaque bytes. */
  responses: Type.Array(Hex(2 * 1024), { maxItems: 32 }),
});
export const ProvisioningView = Type.Object({
  commands: Type.Array(Type.String()),
  done: Type.Boolean(),
});

export const EmptyBody = Strict({});

export const CommandView = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  tokenReference: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

export const DeviceParams = Strict({ deviceId: Id });
export const CardParams = Strict({ cardId: Id });
export const TenantParams = Strict({ tenantId: Id });
export const UserParams = Strict({ userId: Id });
export const CommandParams = Strict({ deviceId: Id, commandId: Id });
export const CardsQuery = Strict({ deviceId: Type.Optional(Id) });

/** A TSP webhook payload (the token service's `{ type, tokenId, at, data }`). */
export const TspWebhookPayload = Type.Object({
  type: Type.String({ minLength: 1, maxLength: 64 }),
  tokenId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  at: Type.String({ minLength: 1, maxLength: 40 }),
  data: Type.Record(Type.String(), Type.Unknown()),
});

export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  code: Type.String(),
  reason: Type.Optional(Type.String()),
});
