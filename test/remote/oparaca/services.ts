// The services of the Oparaca dialect suites: the classes of the platform's own end-to-end test, and a probe.
import { setTimeout as sleep } from 'node:timers/promises';
import { OaasObject, currentInvocation, method, service } from '../../../src/index.js';

/** The platform's stateless echo function (`e2e-test.E2EClass`). */
@service('E2EClass', { package: 'e2e-test' })
export class E2EClass extends OaasObject {
  @method({ stateless: true })
  async echo(data: unknown): Promise<unknown> {
    return data;
  }
}

/** The platform's TypeScript counter (`e2e-ts-test.TsCounter`). */
@service('TsCounter', { package: 'e2e-ts-test' })
export class TsCounter extends OaasObject {
  count = 0;
  history: string[] = [];

  @method()
  async increment(body: { amount?: number } = {}): Promise<number> {
    const amount = body.amount ?? 1;
    this.count += amount;
    this.history.push(`+${amount}`);
    return this.count;
  }

  @method()
  async getCount(): Promise<number> {
    return this.count;
  }

  @method({ stateless: true })
  async echo(data: unknown): Promise<unknown> {
    return data;
  }

  @method()
  async failOnPurpose(message = 'intentional error'): Promise<never> {
    this.count += 1000;
    throw new RangeError(message);
  }
}

/** What a method received, in a form JSON can carry. */
export type Received = { readonly bytes: number[] } | { readonly json: unknown } | { readonly none: true };

/** Methods that show what the dialect hands a method and does with its result. */
@service('Probe', { package: 'oparaca' })
export class Probe extends OaasObject {
  count = 0;
  historyLog: string[] = [];
  label = '';

  /** What the single argument was. */
  @method()
  async received(arg?: unknown): Promise<Received> {
    if (arg === undefined) return { none: true };
    return arg instanceof Uint8Array ? { bytes: [...arg] } : { json: arg };
  }

  /** The invocation's options, after a pause (so concurrent calls overlap). */
  @method()
  async options(pauseMs = 0): Promise<Readonly<Record<string, string>> | null> {
    if (pauseMs > 0) await sleep(pauseMs);
    return currentInvocation()?.options ?? null;
  }

  @method()
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array([0, 1, 2, 255]);
  }

  @method()
  async text(): Promise<string> {
    return 'plain words';
  }

  @method()
  async html(): Promise<string> {
    currentInvocation()!.replyHeaders['Content-Type'] = 'text/html; charset=utf-8';
    return '<p>hi</p>';
  }

  @method()
  async nothing(): Promise<void> {}

  @method()
  async add(n: number): Promise<number> {
    this.count += n;
    return this.count;
  }

  @method()
  async log(entry: string): Promise<string[]> {
    this.historyLog.push(entry);
    return this.historyLog;
  }

  @method()
  async *steps(n: number): AsyncGenerator<string> {
    for (let i = 1; i <= n; i++) {
      this.count += 1;
      yield `${currentInvocation()?.options.accept ?? 'no accept'} ${i}`;
    }
  }
}

/** The example of docs/oparaca.md: bytes in, bytes out, labelled with their type. */
@service('Blobs', { package: 'media' })
export class Blobs extends OaasObject {
  data: Uint8Array = new Uint8Array(0);
  type = 'application/octet-stream';

  @method()
  async upload(bytes: Uint8Array): Promise<number> {
    this.data = bytes;
    this.type = currentInvocation()?.options['content-type'] ?? this.type;
    return bytes.length;
  }

  @method()
  async download(): Promise<Uint8Array> {
    const invocation = currentInvocation();
    if (invocation !== undefined) invocation.replyHeaders['content-type'] = this.type;
    return this.data;
  }
}
