import {
  decodeTokenData,
  encodeTokenData,
  Field,
  interchangeCodec,
  interchangeSpec,
  Mti,
  ProcessingCode,
  ResponseCode,
  TokenDataId,
} from '@amulet/contracts';
import { createMessage, type FieldValue, getText, type Iso8583Message } from '@amulet/iso8583';
import type { Issuer } from '@amulet/store';
import { createTcpTransport, type TransportClient } from '@amulet/transport';
import { TokenServiceError } from './token-service-error.ts';
import { transmissionDateTime } from './transmission-date-time.ts';
import type { World } from './world.ts';

/** The token service's ID&V question to the issuer: a token activation request, or an OTP check. */
export interface IdvRequest {
  readonly pan: string;
  /** YYMM. */
  readonly expiry: string;
  readonly requestorTrid: string;
  readonly deviceId: string;
  readonly reason: 'TAR' | 'OTP';
  /** The code the cardholder typed (reason OTP only). */
  readonly otp?: string;
}

/** Green: provision. Yellow: step-up (the issuer sent an OTP). Red: decline, with the issuer's code. */
export type IdvDecision =
  | { readonly decision: 'green' }
  | { readonly decision: 'yellow' }
  | { readonly decision: 'red'; readonly reason: string };

export interface IdvGateway {
  ask(issuer: Issuer, request: IdvRequest): Promise<IdvDecision>;
  close(): Promise<void>;
}

/**
 * Field 41 of every ID&V request: the token service is the acceptor of its own account
 * verification, so it names itself there, and the issuer keys the request by fields 32, 41, 11
 * and 7 like any other 0100 (ISO 8583:1987 field 41, ans 8).
 */
export const idvTerminalId = 'TSPIDV01';

/** Builds the 0100 account verification the issuer answers (docs/token-service.md, "ID&V"). */
export function idvRequestMessage(
  request: IdvRequest,
  stan: string,
  at: Date,
  institutionId: string,
): Iso8583Message {
  const data: [string, string][] = [
    [TokenDataId.messageReason, request.reason],
    [TokenDataId.tokenRequestorId, request.requestorTrid],
    [TokenDataId.deviceId, request.deviceId],
  ];
  if (request.reason === 'OTP') data.push([TokenDataId.otp, request.otp ?? '']);
  return createMessage(
    interchangeSpec,
    Mti.authorizationRequest,
    new Map<number, FieldValue>([
      [Field.pan, request.pan],
      [Field.processingCode, ProcessingCode.accountVerification],
      [Field.amount, '000000000000'],
      [Field.transmissionDateTime, transmissionDateTime(at)],
      [Field.stan, stan],
      [Field.expiry, request.expiry],
      [Field.acquiringInstitutionId, institutionId],
      [Field.terminalId, idvTerminalId],
      [Field.additionalDataPrivate, encodeTokenData(data)],
    ]),
  );
}

/** Reads the issuer's 0110: 39 '00' green, '1A' yellow (only to a TAR), anything else red. */
export function idvDecisionOf(response: Iso8583Message, reason: 'TAR' | 'OTP'): IdvDecision {
  const code = getText(response, Field.responseCode);
  if (response.mti !== Mti.authorizationResponse || code === undefined)
    return { decision: 'red', reason: ResponseCode.formatError };
  if (code === ResponseCode.approved) return { decision: 'green' };
  if (code === ResponseCode.additionalAuthenticationRequired && reason === 'TAR')
    return { decision: 'yellow' };
  return { decision: 'red', reason: code };
}

/** Field 48 of a request, as subelements (empty when absent). */
export function tokenDataOf(message: Iso8583Message): Map<string, string> {
  const text = getText(message, Field.additionalDataPrivate);
  return text === undefined ? new Map() : decodeTokenData(text);
}

/**
 * ID&V over ISO 8583 on TCP (@amulet/transport): one persistent client per issuer endpoint
 * (`host:port`), STANs from a counter that starts at a random value.
 */
export class Iso8583IdvGateway implements IdvGateway {
  readonly #clients = new Map<string, TransportClient<Iso8583Message>>();
  readonly #transport = createTcpTransport({ codec: interchangeCodec });
  #stan: number;

  constructor(
    private readonly world: World,
    private readonly options: { readonly institutionId: string; readonly timeoutMs?: number },
  ) {
    const r = world.random(3);
    this.#stan = (((r[0] ?? 0) << 16) | ((r[1] ?? 0) << 8) | (r[2] ?? 0)) % 1_000_000;
  }

  #client(endpoint: string): TransportClient<Iso8583Message> {
    let client = this.#clients.get(endpoint);
    if (client === undefined) {
      const match = /^([^:]+):(\d{1,5})$/.exec(endpoint);
      if (match === null)
        throw new TokenServiceError('ERR_TSP_ISSUER_UNAVAILABLE', 'the issuer endpoint is not host:port');
      client = this.#transport.connect(
        { host: match[1] as string, port: Number(match[2]) },
        { whenDisconnected: 'wait', defaultTimeoutMs: this.options.timeoutMs ?? 10_000, maxInFlight: 4096 },
      );
      this.#clients.set(endpoint, client);
    }
    return client;
  }

  async ask(issuer: Issuer, request: IdvRequest): Promise<IdvDecision> {
    this.#stan = (this.#stan % 999_999) + 1;
    const message = idvRequestMessage(
      request,
      String(this.#stan).padStart(6, '0'),
      this.world.now(),
      this.options.institutionId,
    );
    let response: Iso8583Message;
    try {
      response = await this.#client(issuer.idvEndpoint).request(message);
    } catch (cause) {
      throw new TokenServiceError(
        'ERR_TSP_ISSUER_UNAVAILABLE',
        `issuer ${issuer.id} did not answer the ID&V request`,
        {
          cause,
        },
      );
    }
    return idvDecisionOf(response, request.reason);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((c) => c.close()));
    this.#clients.clear();
  }
}
