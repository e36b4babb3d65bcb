import { OaasObject } from '../../object/oaas-object.js';
import { service } from '../../registry/decorators.js';

/**
 * The last trigger events of a deleted object: created by the commit that
 * deletes it (its `delete` event and whatever it had not delivered yet, in
 * this record's outbox), delivered like any object's, and deleted once
 * empty. Internal: the gateway never serves `oaas.*` classes.
 */
@service('Outbox', { package: 'oaas', description: 'trigger events of deleted objects' })
export class OutboxRecord extends OaasObject {
  /** The deleted object the events are about. */
  source = { cls: '', partitionId: 0, objectId: '' };
}
