import { AmuletError } from '@amulet/bytes';

export type RiskErrorCode = 'ERR_RISK_RULES' | 'ERR_RISK_VELOCITY';

/**
 * A rule set that fails validation (`ERR_RISK_RULES`, with the path of the failing property) or a
 * velocity counter used outside its limits (`ERR_RISK_VELOCITY`). Messages name properties and
 * limits, never a feature value.
 */
export class RiskError extends AmuletError {
  declare readonly code: RiskErrorCode;
  constructor(
    code: RiskErrorCode,
    message: string,
    options: { path?: readonly string[]; cause?: unknown } = {},
  ) {
    super(code, message, {
      ...(options.path === undefined ? {} : { path: options.path }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
  }
}
