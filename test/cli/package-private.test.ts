// `_` methods: the gateway never invokes them, so the package document does not list them either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OaasObject, createApp, method, service, shutdown } from '../../src/index.js';
import { buildPackageDocument, exportPackage } from '../../src/package/package-export.js';
import { freshRuntime } from '../support/runtime.js';

@service('Vault', { package: 'private_names' })
class Vault extends OaasObject {
  amount = 0;

  @method()
  async deposit(by: number): Promise<number> {
    this.amount += by;
    return this.amount;
  }

  @method()
  async _audit(): Promise<number> {
    return this.amount;
  }

  @method({ name: '_sweep' })
  async sweep(): Promise<void> {
    this.amount = 0;
  }

  @method({ name: 'peek', stateless: true })
  async _peek(): Promise<string> {
    return 'stateless';
  }
}

describe('the package document and the gateway agree on what is invocable', () => {
  beforeAll(async () => {
    await freshRuntime();
  });
  afterAll(async () => {
    await shutdown({ timeoutMs: 2000 });
  });

  it('leaves out methods whose invocation name starts with _ (property names do not count)', () => {
    const doc = buildPackageDocument({ classes: [Vault] });
    expect(doc.classes[0]!.function_bindings.map((b) => b.name)).toEqual(['deposit', 'peek']);
    expect(doc.functions.map((f) => f.key)).toEqual(['Vault.deposit', 'Vault.peek']);
    const yaml = exportPackage({ classes: [Vault] });
    expect(yaml).not.toContain('_audit');
    expect(yaml).not.toContain('_sweep');
  });

  it('every listed function is served, every left-out one is a 404', async () => {
    const app = createApp();
    await app.request('/api/class/private_names.Vault/0/objects/v1', { method: 'PUT', body: JSON.stringify({ entries: { amount: 1 } }) });
    const doc = buildPackageDocument({ classes: [Vault] });
    for (const binding of doc.classes[0]!.function_bindings) {
      const path = binding.stateless ? `/api/class/private_names.Vault/0/invokes/${binding.name}` : `/api/class/private_names.Vault/0/objects/v1/invokes/${binding.name}`;
      const reply = await app.request(path, { method: 'POST', body: binding.parameters.length === 0 ? '' : '2' });
      expect(reply.status, `${binding.name}: ${await reply.clone().text()}`).toBe(200);
    }
    for (const name of ['_audit', '_sweep']) {
      const reply = await app.request(`/api/class/private_names.Vault/0/objects/v1/invokes/${name}`, { method: 'POST' });
      expect(reply.status).toBe(404);
      expect(((await reply.json()) as { error: { code: string } }).error.code).toBe('OAAS_ERR_METHOD_NOT_FOUND');
    }
  });
});
