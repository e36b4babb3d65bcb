// Malformed input to configureOaas and setAutoCommitInterval: a typed error, and nothing changed (see support.ts).
import { describe, expect, it, vi } from 'vitest';
import { ConfigurationError, InvalidArgumentError, commitAll, configureOaas, setAutoCommitInterval } from '../../../src/index.js';
import { check, thrown, rejection, ARG, runtime, snapshot, BadCounter, freshRuntimeEachTest } from './support.js';

freshRuntimeEachTest();

describe('configureOaas', () => {
  it.each([
    ['null', null, 'config'],
    ['a string', 'memory', 'config'],
    ['an array', [], 'config'],
    ['an unknown key', { store: 'memory', colour: 'blue' }, 'colour'],
    ['interval -1', { store: 'memory', autoCommitIntervalMs: -1 }, 'autoCommitIntervalMs'],
    ['a string lockTimeoutMs', { store: 'memory', lockTimeoutMs: '10' }, 'lockTimeoutMs'],
    ['an unknown store', { store: 'nosuch:thing' }, 'store'],
    ['a bad logger', { store: 'memory', logger: {} }, 'logger'],
  ])('rejects %s with ConfigurationError and keeps the previous runtime', async (_label, config, fieldName) => {
    const before = runtime();
    const kept = BadCounter.create({ count: 3 }, { id: 'kept' });
    const s = snapshot();
    const e = check(await rejection(() => configureOaas(config as never)), ConfigurationError, 'OAAS_ERR_CONFIG_INVALID');
    expect(e.field).toBe(fieldName);
    expect(runtime()).toBe(before);
    expect(before.isShutDown).toBe(false);
    expect(snapshot()).toEqual(s);
    await expect(BadCounter.load('kept')).resolves.toBe(kept);
    expect((await commitAll()).committed).toBe(1);
  });
});

describe('setAutoCommitInterval', () => {
  it.each([
    ['0', 0],
    ['-1', -1],
    ['NaN', Number.NaN],
    ["'5'", '5'],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['2^31', 2 ** 31],
    ['undefined', undefined],
  ])('refuses %s', (_label, ms) => {
    const e = check(thrown(() => setAutoCommitInterval(ms as never)), InvalidArgumentError, ARG);
    expect(e.argument).toBe('ms');
  });

  it('keeps the previous interval after a refusal', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    await configureOaas({ store: 'memory', autoCommit: true, autoCommitIntervalMs: 1000, logLevel: 'silent' });
    BadCounter.create({}, { id: 'timed' });
    for (const bad of [0, -1, Number.NaN, '5', Number.POSITIVE_INFINITY]) {
      expect(() => setAutoCommitInterval(bad as never)).toThrow(InvalidArgumentError);
    }
    expect(runtime().autoCommitEnabled).toBe(true);
    await vi.advanceTimersByTimeAsync(999);
    await runtime().settled();
    expect(runtime().pendingObjectCount).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await runtime().settled();
    expect(runtime().pendingObjectCount).toBe(0);
  });
});
