// The `clock` option: the runtime's timers and time readings come from the clock it is given,
// so a test moves time by hand. The suites that need fake time use it (auto-commit, back-off,
// pending ages, the shutdown flush); this file checks the option itself.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { ConfigurationError, configureOaas, getAutoSessionManager, healthCheck, runInSession, shutdown } from '../../src/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { RecordingStore } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

function configError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  return expect.fail('expected a ConfigurationError');
}

describe('the clock option', () => {
  it('runs the auto-commit timer on the given clock, not on the system timers', async () => {
    const clock = new ManualClock();
    const store = new RecordingStore();
    // An hour: only a clock moved by hand gets there within a test.
    // Reminders off: the only timer is then the auto-commit's.
    await freshRuntime({ store, autoCommit: true, autoCommitIntervalMs: 3_600_000, clock, reminders: { enabled: false } });
    await runInSession(() => Counter.create({}, { id: 'on-the-clock' }));
    expect(clock.timerCount).toBe(1);
    await clock.advance(3_599_999);
    expect(store.batches).toHaveLength(0);
    await clock.advance(1);
    await getAutoSessionManager().settled();
    expect(store.batches.flat().map((op) => op.key.objectId)).toEqual(['on-the-clock']);
  });

  it('stops the timer on the clock at shutdown and restarts it there with a new interval', async () => {
    const clock = new ManualClock();
    const store = new RecordingStore();
    await freshRuntime({ store, autoCommit: true, autoCommitIntervalMs: 100, clock, reminders: { enabled: false } });
    getAutoSessionManager().setAutoCommitInterval(500);
    expect(clock.timerCount).toBe(1);
    Counter.create({}, { id: 'restarted' });
    await clock.advance(499);
    expect(store.batches).toHaveLength(0);
    await clock.advance(1);
    await getAutoSessionManager().settled();
    expect(store.batches).toHaveLength(1);
    await shutdown();
    expect(clock.timerCount).toBe(0);
  });

  it('measures pending ages on the given clock', async () => {
    const clock = new ManualClock(1_000_000);
    await freshRuntime({ clock });
    Counter.create({}, { id: 'aging' });
    await clock.advance(42_000);
    expect((await healthCheck()).oldestPendingAgeMs).toBe(42_000);
  });

  it('defaults to the system clock', () => {
    const resolved = resolveConfig({ store: 'memory' }, {});
    const before = Date.now();
    expect(resolved.clock.now()).toBeGreaterThanOrEqual(before);
    expect(resolved.clock.now()).toBeLessThan(before + 60_000);
  });

  it('accepts any object with the five functions', () => {
    const clock = new ManualClock();
    expect(resolveConfig({ store: 'memory', clock }, {}).clock).toBe(clock);
  });

  it('refuses a value that is not a clock with a ConfigurationError naming clock', async () => {
    for (const bad of [5, 'system', null, () => 0]) {
      const e = configError(() => resolveConfig({ store: 'memory', clock: bad as never }, {}));
      expect(e.field).toBe('clock');
      expect(e.message).toContain('expected a clock with now, setTimeout, clearTimeout, setInterval, clearInterval functions');
    }
    const { clearInterval: _, ...partial } = { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined, setInterval: () => 0, clearInterval: () => undefined };
    const e = configError(() => resolveConfig({ store: 'memory', clock: partial as never }, {}));
    expect(e.field).toBe('clock');
    expect(e.message).toMatch(/missing: clearInterval$/);
    await expect(configureOaas({ store: 'memory', clock: { now: 'soon' } as never })).rejects.toMatchObject({ field: 'clock' });
  });
});
