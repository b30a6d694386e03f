import { IssuerError } from './issuer-error.ts';

export type CardStatus = 'active' | 'blocked' | 'lost' | 'closed';

export const cardStatuses: readonly CardStatus[] = ['active', 'blocked', 'lost', 'closed'];

/**
 * The card lifecycle: active, blocked and lost move among themselves (a lost card found is active
 * again); any card may be closed; a closed card stays closed (a reissue makes a new card).
 */
export function nextCardStatus(from: CardStatus, to: CardStatus): CardStatus {
  if (!cardStatuses.includes(to))
    throw new IssuerError('ERR_ISSUER_INPUT', 'a card status is active, blocked, lost or closed');
  if (from === 'closed' && to !== 'closed')
    throw new IssuerError('ERR_ISSUER_STATUS', 'a closed card stays closed');
  return to;
}
