/**
 * The manual session API (as in the Python oaas-sdk2-py) next to the new
 * style, in one process, on the memory store. See docs/migration.md.
 *
 *     npx tsx examples/legacy-migration/main.ts
 */
import {
  OaasObject,
  Oparaca,
  method,
  service,
  sessionScope,
  shutdown,
  type InvocationResponse,
} from '../../src/index.js';

// ---------------------------------------------------------------------------
// Before: manual sessions. `mockMode: true` selects the memory store.

const oaas = new Oparaca({ mockMode: true });
const Greeter = oaas.newCls('Greeter', 'legacy');

@Greeter
class GreeterObj extends OaasObject {
  greeting = 'hello';
  greeted: string[] = [];

  @Greeter.func()
  async greet(name: string): Promise<string> {
    this.greeted.push(name);
    if (name === '') throw new Error('a name is required');
    return `${this.greeting}, ${name}`;
  }
}

const decoder = new TextDecoder();

function show(response: InvocationResponse): string {
  const payload = response.payload === undefined ? '' : ` ${decoder.decode(response.payload)}`;
  return `${response.status}${payload}`;
}

async function manualStyle(): Promise<void> {
  await oaas.ready();
  const session = oaas.newSession();
  const greeter = session.createObject<GreeterObj>(Greeter, 'greeter-1');
  greeter.greeting = 'hi';
  const created = await session.commit();
  console.log(`[manual] created ${created.committed.map((r) => r.objectId).join(', ')}`);

  // objRpc takes the platform's request shape; the payload is the JSON of the argument.
  const request = { clsId: Greeter.clsId, partitionId: 0, objectId: 'greeter-1', fnId: 'greet' };
  console.log(`[manual] objRpc greet("ada") -> ${show(await session.objRpc({ ...request, payload: JSON.stringify('ada') }))}`);
  // A method that throws is undone on its object: its push to `greeted` does not survive.
  console.log(`[manual] objRpc greet("")   -> ${show(await session.objRpc({ ...request, payload: JSON.stringify('') }))}`);
  const written = await session.commit();
  console.log(`[manual] commit wrote ${written.committed.length} object(s); greeted = ${JSON.stringify(greeter.greeted)}`);
}

// ---------------------------------------------------------------------------
// After: a @service class, automatic per-context sessions, atomic scopes.

@service('Greeter', { package: 'modern' })
class ModernGreeter extends OaasObject {
  greeting = 'hello';
  greeted: string[] = [];

  @method()
  async greet(name: string): Promise<string> {
    this.greeted.push(name);
    if (name === '') throw new Error('a name is required');
    return `${this.greeting}, ${name}`;
  }
}

async function newStyle(): Promise<void> {
  // Created in the current context's session; auto-commit (or shutdown) writes it.
  const greeter = ModernGreeter.create({ greeting: 'hi' }, { id: 'greeter-1' });
  console.log(`[new] greet("ada") -> ${await greeter.greet('ada')}`);
  try {
    await greeter.greet('');
  } catch (error) {
    console.log(`[new] greet("") threw "${(error as Error).message}"; greeted = ${JSON.stringify(greeter.greeted)}`);
  }

  // Several objects, one transaction: both greeters change, or neither does.
  await sessionScope(async () => {
    const legacy = await GreeterObj.load('greeter-1'); // classes declared with newCls work with the new API too
    legacy.greeting = 'hey';
    greeter.greeting = 'hey';
  });
  console.log(`[new] scope committed: legacy says "${(await GreeterObj.load('greeter-1')).greeting}", modern says "${greeter.greeting}"`);

  await shutdown(); // flushes the pending creation and closes the store
  console.log('[new] shut down');
}

await manualStyle();
await newStyle();
