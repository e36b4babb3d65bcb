import type { Membership } from '../../cluster/membership.js';
import { ConfigurationError } from '../../errors.js';
import type { StoreSpec } from '../../stores/resolve-store.js';

/** The membership kept in the store a spec names; its module is loaded only in cluster mode. */
export async function openMembership(spec: StoreSpec | { readonly kind: 'custom' }): Promise<Membership> {
  switch (spec.kind) {
    case 'postgres': {
      const { PostgresMembership } = await import('../../stores/postgres/membership.js');
      return new PostgresMembership({ url: spec.url });
    }
    case 'redis': {
      const { RedisMembership } = await import('../../stores/redis/membership.js');
      return new RedisMembership({ url: spec.url });
    }
    default:
      // resolveConfig refuses this already; kept for a spec built by hand.
      throw new ConfigurationError('cluster', `cluster mode needs a postgres:// or redis:// store, not ${spec.kind}`);
  }
}
