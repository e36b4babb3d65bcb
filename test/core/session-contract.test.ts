// The three kinds of unit of work run the same session contract (see session-contract.ts).
import { currentSession, newSession, runInSession, sessionScope } from '../../src/index.js';
import { shutdownAfterEach } from '../support/runtime.js';
import { Counter } from '../support/services.js';
import { ContextWorker, describeSessionContract, type Unit } from './session-contract.js';

shutdownAfterEach();

/** Steps of one context's work that can run at any time (an HTTP request's, a job's). */
function contextUnit(worker: ContextWorker, commit: () => Promise<void>): Unit {
  return {
    create: (id, count) => worker.run(() => Counter.create({ count }, { id })),
    load: (id) => worker.run(() => Counter.load(id)),
    run: (fn) => worker.run(fn),
    delete: (counter) => worker.run(() => counter.delete()),
    commit,
    abort: (error) => worker.fail(error).then(() => undefined, (reason: unknown) => reason),
  };
}

// Auto sessions: one runInSession context, committed by its own session.
describeSessionContract({
  name: 'auto session (runInSession, currentSession().commit())',
  failedCommit: 'keeps-pending',
  abortable: false,
  open: () => {
    const worker = new ContextWorker((loop) => runInSession(loop));
    return Promise.resolve(
      contextUnit(worker, async () => {
        await worker.run(() => currentSession().commit());
      }),
    );
  },
});

// The manual API: an adapter from newSession(), with no context of its own.
describeSessionContract({
  name: 'manual session (newSession(), commit())',
  failedCommit: 'keeps-pending',
  abortable: false,
  open: () => {
    const session = newSession();
    return Promise.resolve({
      create: (id, count) => {
        const counter = session.createObject(Counter, id);
        counter.count = count;
        return Promise.resolve(counter);
      },
      load: (id) => session.loadObject(Counter, id),
      run: async (fn) => fn(),
      delete: (counter) => {
        session.deleteObject(Counter, counter.id);
        return Promise.resolve();
      },
      commit: async () => {
        await session.commit();
      },
      abort: () => Promise.reject(new Error('a manual session has no abort')),
    });
  },
});

// Scopes: one sessionScope, committed when its function returns, rolled back when it throws.
describeSessionContract({
  name: 'scope (sessionScope)',
  failedCommit: 'rolls-back',
  abortable: true,
  open: () => {
    const worker = new ContextWorker((loop) => sessionScope(loop));
    return Promise.resolve(
      contextUnit(worker, async () => {
        await worker.finish();
      }),
    );
  },
});
