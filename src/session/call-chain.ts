import type { ObjectCore } from '../object/object-core.js';
import type { LockHolder } from '../object/object-lock.js';
import type { ManagedSession } from './session.js';
import type { UndoFrame } from './undo-frame.js';

/** One open scope level, as the chain sees it. */
export interface ScopeFrames {
  /** Lock holder of the outermost scope: objects are held until it ends. */
  readonly holder: LockHolder;
  /** This level's rollback record per touched object. */
  readonly frames: Map<ObjectCore, UndoFrame>;
  /** The scope's unit of work (shared by nested levels). */
  readonly session: ManagedSession;
  /** Takes `core` for the scope, waiting for other holders (a call or a load in the scope). */
  hold(core: ObjectCore, chain: ChainLink | undefined): Promise<void>;
  /** Takes `core` for the scope now, or throws `ObjectBusyError` (a plain write or a creation in the scope). */
  holdNow(core: ObjectCore, chain: ChainLink | undefined): UndoFrame;
}

/**
 * One link of the current call chain: a method call on an object (a turn) or
 * an open scope. Links are immutable; a call pushes a new one for its
 * duration through the chain context.
 */
export interface ChainLink {
  readonly parent: ChainLink | undefined;
  readonly holder: LockHolder;
  /** For a method call: the object and the call's rollback record. */
  readonly core?: ObjectCore | undefined;
  readonly frame?: UndoFrame | undefined;
  /** For a scope level. */
  readonly scope?: ScopeFrames | undefined;
}

/** True when `core`'s turn is held by this chain (so a call on it re-enters instead of waiting). */
export function chainHolds(chain: ChainLink | undefined, core: ObjectCore): boolean {
  const holder = core.holder;
  if (holder === undefined) return false;
  for (let link = chain; link !== undefined; link = link.parent) if (link.holder === holder) return true;
  return false;
}

/** The innermost rollback record this chain keeps for `core`. */
export function frameFor(chain: ChainLink | undefined, core: ObjectCore): UndoFrame | undefined {
  for (let link = chain; link !== undefined; link = link.parent) {
    if (link.core === core) return link.frame;
    const frame = link.scope?.frames.get(core);
    if (frame !== undefined) return frame;
  }
  return undefined;
}

/** The innermost open scope of this chain. */
export function innermostScope(chain: ChainLink | undefined): ScopeFrames | undefined {
  for (let link = chain; link !== undefined; link = link.parent) if (link.scope !== undefined) return link.scope;
  return undefined;
}
