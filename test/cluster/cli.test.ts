// `oaas serve` as a cluster member: it joins before it announces its URL, and on SIGTERM hands its objects over while
// its server still answers, then exits 0; the other member answers for them with every change.
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { TsChild } from '../support/child.js';
import { describeOnSharedStores } from '../support/servers.js';

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const services = 'test/cli/fixtures/services.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function add(url: string, item: string, price: number): Promise<Response> {
  return fetch(`${url}/api/class/shop.Cart/0/objects/c1/invokes/add`, { method: 'POST', body: JSON.stringify([item, price]) });
}

await describeOnSharedStores((kind) => `oaas serve as a cluster member on ${kind}`, (server) => {
  const children: TsChild[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.signal('SIGKILL');
      await child.exit(5000);
    }
  });

  async function member(store: string): Promise<{ child: TsChild; url: string }> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = new TsChild(cli, ['serve', services, '--port', String(port)], { OAAS_STORE: store, OAAS_CLUSTER_URL: url, OAAS_CLUSTER_LEASE_MS: '1500', OAAS_MOCK_MODE: '' });
    children.push(child);
    await child.waitFor((line) => line.startsWith('listening on '), 30_000);
    return { child, url };
  }

  it('joins before announcing, hands over on SIGTERM and exits 0', { timeout: 60_000 }, async () => {
    const store = await server.freshStore();
    const a = await member(store);
    // Announced only once joined: its figures already show the cluster.
    expect(await (await fetch(`${a.url}/metrics`)).text()).toMatch(/^oaas_cluster_members 1$/m);
    const b = await member(store);
    // Created through b, whichever member owns it.
    expect((await fetch(`${b.url}/api/class/shop.Cart/0/objects/c1`, { method: 'PUT', body: '{"entries":{}}' })).status).toBe(200);
    expect((await add(a.url, 'apple', 2)).status).toBe(200);
    expect(await (await add(b.url, 'pear', 3)).json()).toBe(5);

    a.child.signal('SIGTERM');
    const [code] = await a.child.exit(30_000);
    expect(code, a.child.stderr).toBe(0);
    // b answers for everything now, with every change a acknowledged.
    expect(await (await add(b.url, 'plum', 4)).json()).toBe(9);
    const state = (await (await fetch(`${b.url}/api/class/shop.Cart/0/objects/c1`)).json()) as { entries: { items: string[] } };
    expect(state.entries.items).toEqual(['apple', 'pear', 'plum']);
  });
});
