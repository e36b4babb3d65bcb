import { OdgmStore } from '../../src/stores/odgm/odgm-store.js';
import { startOdgmDataService } from '../support/odgm-data-service.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('odgm', async () => {
  const service = await startOdgmDataService();
  return { store: new OdgmStore({ address: service.address }), cleanup: () => service.stop() };
}, { oneObjectPerBatch: true, plainNames: true, platformVersions: true });
