import type { Actor, TokenStatus } from '@amulet/store';

/** What a caller may ask of a token's status (EMVCo Payment Tokenisation lifecycle). */
export type LifecycleAction = 'activate' | 'suspend' | 'resume' | 'delete';

export const LIFECYCLE_ACTIONS: readonly LifecycleAction[] = ['activate', 'suspend', 'resume', 'delete'];

/**
 * The transitions, pure: `(status, action) -> status`, or undefined when not allowed.
 * inactive -> active only through provisioning (the secure element's confirmation);
 * active <-> suspended; anything but deleted -> deleted (final).
 */
export function nextStatus(status: TokenStatus, action: LifecycleAction): TokenStatus | undefined {
  switch (action) {
    case 'activate':
      return status === 'inactive' ? 'active' : undefined;
    case 'suspend':
      return status === 'active' ? 'suspended' : undefined;
    case 'resume':
      return status === 'suspended' ? 'active' : undefined;
    case 'delete':
      return status === 'deleted' ? undefined : 'deleted';
  }
}

export const ACTORS: readonly Actor[] = ['cardholder', 'wallet', 'issuer', 'tsp'];

/** The webhook event type each action raises. */
export const eventTypeOf: Readonly<Record<LifecycleAction, string>> = {
  activate: 'token.activated',
  suspend: 'token.suspended',
  resume: 'token.resumed',
  delete: 'token.deleted',
};
