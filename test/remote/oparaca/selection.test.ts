// Which dialect a server speaks: the option, OAAS_GATEWAY_DIALECT, the platform's environment (ODGM_SERVICE); `oaas serve` in a child process.
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../src/errors.js';
import { createApp } from '../../../src/server/app.js';
import { resolveDialect } from '../../../src/server/dialect.js';
import { serve } from '../../../src/server/serve.js';
import { TsChild } from '../../support/child.js';
import { freshRuntime, shutdownAfterEach } from '../../support/runtime.js';
import './services.js';

shutdownAfterEach();

const cli = fileURLToPath(new URL('../../../src/cli.ts', import.meta.url));
const services = fileURLToPath(new URL('./services.ts', import.meta.url));

/** The dialect an app speaks, read off its /health reply. */
async function spoken(app: ReturnType<typeof createApp>): Promise<string> {
  const reply = await app.request('/health');
  return reply.headers.get('oaas-dialect') === 'oparaca' && (await reply.text()) === 'ok' ? 'oparaca' : 'oaas';
}

describe('choosing a dialect', () => {
  const saved = { OAAS_GATEWAY_DIALECT: process.env.OAAS_GATEWAY_DIALECT, ODGM_SERVICE: process.env.ODGM_SERVICE };
  beforeEach(async () => {
    delete process.env.OAAS_GATEWAY_DIALECT;
    delete process.env.ODGM_SERVICE;
    await freshRuntime();
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('is the SDK’s own by default, and the option’s when given', async () => {
    expect(await spoken(createApp())).toBe('oaas');
    expect(await spoken(createApp({ dialect: 'oparaca' }))).toBe('oparaca');
    expect(await spoken(createApp({ dialect: 'oaas' }))).toBe('oaas');
  });

  it('follows OAAS_GATEWAY_DIALECT, and ODGM_SERVICE when the variable is unset; the option wins over both', async () => {
    process.env.ODGM_SERVICE = 'counter-odgm-svc:8080';
    expect(await spoken(createApp())).toBe('oparaca');
    process.env.OAAS_GATEWAY_DIALECT = 'oaas';
    expect(await spoken(createApp())).toBe('oaas');
    process.env.OAAS_GATEWAY_DIALECT = ' Oparaca ';
    expect(await spoken(createApp())).toBe('oparaca');
    expect(await spoken(createApp({ dialect: 'oaas' }))).toBe('oaas');
    process.env.OAAS_GATEWAY_DIALECT = '';
    process.env.ODGM_SERVICE = '';
    expect(await spoken(createApp())).toBe('oaas');
  });

  it('refuses a malformed option or variable with a ConfigurationError naming it', async () => {
    const bad = (fn: () => unknown): ConfigurationError => {
      try {
        fn();
      } catch (error) {
        return error as ConfigurationError;
      }
      throw new Error('expected a ConfigurationError');
    };
    const option = bad(() => createApp({ dialect: 'grpc' as never }));
    expect(option).toBeInstanceOf(ConfigurationError);
    expect(option.field).toBe('dialect');
    expect(option.message).toBe('dialect: expected \'oaas\' or \'oparaca\', got "grpc"');
    process.env.OAAS_GATEWAY_DIALECT = 'rest';
    const variable = bad(() => resolveDialect(undefined));
    expect([variable.field, variable.message]).toEqual(['dialect (OAAS_GATEWAY_DIALECT)', 'dialect (OAAS_GATEWAY_DIALECT): expected oaas or oparaca, got "rest"']);
    await expect(serve({ port: 0 })).rejects.toThrow(ConfigurationError);
  });

  it('can differ between two servers of one process, over one runtime', async () => {
    const oparaca = await serve({ port: 0, dialect: 'oparaca' });
    const oaas = await serve({ port: 0, dialect: 'oaas' });
    try {
      const path = '/api/class/e2e-ts-test.TsCounter/0/objects/both/invokes/increment';
      expect(await (await fetch(`${oparaca.url}${path}`, { method: 'POST', body: '{"amount": 2}' })).text()).toBe('2');
      expect(await (await fetch(`${oaas.url}${path}`, { method: 'POST', body: '{"amount": 3}' })).json()).toBe(5);
    } finally {
      await oparaca.close();
      await oaas.close();
    }
  });

  it('is passed on by serve()', async () => {
    const server = await serve({ port: 0, dialect: 'oparaca' });
    try {
      const reply = await fetch(`${server.url}/healthz`);
      expect([await reply.text(), reply.headers.get('oaas-dialect')]).toEqual(['ok', 'oparaca']);
    } finally {
      await server.close();
    }
  });
});

describe('oaas serve (child process)', () => {
  it('speaks the Oparaca dialect under OAAS_GATEWAY_DIALECT=oparaca', async () => {
    const child = new TsChild(cli, ['serve', services, '--port', '0'], { OAAS_MOCK_MODE: '1', OAAS_GATEWAY_DIALECT: 'oparaca' });
    try {
      await child.waitFor((line) => line.startsWith('listening on '), 30_000);
      const url = child.lines.find((line) => line.startsWith('listening on '))!.slice('listening on '.length);
      const echoed = await fetch(new URL('/api/class/e2e-test.E2EClass/0/invokes/echo', url), { method: 'POST', body: 'hello-world' });
      expect([echoed.status, await echoed.text(), echoed.headers.get('oaas-dialect')]).toEqual([200, 'hello-world', 'oparaca']);
    } finally {
      child.signal('SIGTERM');
    }
    const [code] = await child.exit(30_000);
    expect(code, child.stderr).toBe(0);
  });
});
