export { SandboxIssuer } from './sandbox-issuer.ts';
export { type SandboxToken, SandboxTokenService } from './sandbox-token-service.ts';
