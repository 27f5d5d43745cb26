/**
 * A small synchronous store around a pure transition function: `getState()` is current the moment
 * `dispatch` returns (event handlers of one drag or one key run read it without waiting for React), and
 * React components subscribe through `useSyncExternalStore`.
 */
export interface Store<S, A, E> {
  getState(): S;
  /** Applies the action and returns its effects, for the caller to carry out. */
  dispatch(action: A): readonly E[];
  subscribe(listener: () => void): () => void;
}

export function createStore<S, A, E>(
  initial: S,
  transition: (state: S, action: A) => { readonly state: S; readonly effects: readonly E[] },
): Store<S, A, E> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    dispatch(action) {
      const next = transition(state, action);
      if (next.state !== state) {
        state = next.state;
        for (const l of [...listeners]) l();
      }
      return next.effects;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
