/**
 * Backpropagation that frees as it goes. tfjs's engine walks the tape backward keeping every node's output
 * gradients and every saved forward tensor alive until the whole backward pass is over, so a training step's
 * peak holds all activations and all activation gradients at once. Here each tape node, once the gradients of its
 * inputs are made, disposes its output gradients and its saved tensors: nothing later reads them (the tape is
 * walked in reverse order, and the saved tensors are the node's own clones).
 *
 * It wraps each node's gradient function as the engine records it (Engine.addTapeNode). Not freed: an output
 * gradient that existed before the backward pass (a dy the caller passed in), one that a node hands on unchanged
 * as an input's gradient, and anything while gradients of gradients are being recorded.
 */
import * as tf from "@tensorflow/tfjs";

interface TapeNode {
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  addTapeNode(...args: unknown[]): void;
}

const WRAPPED = Symbol.for("cnn-lessons-ts.freeGradients");
let freeingOn = true;

/** Turns the early freeing off and on again (tests compare both); returns the previous setting. */
export function setFreeingBackprop(on: boolean): boolean {
  const previous = freeingOn;
  freeingOn = on;
  return previous;
}

/** The gradient function of `node`, releasing what it holds once every input gradient asked for is made. */
function freeing(engine: EngineInternals, node: TapeNode, gradient: NonNullable<TapeNode["gradient"]>): TapeNode["gradient"] {
  return function (this: TapeNode | undefined, dys) {
    const thunks = gradient(dys);
    if (!freeingOn || engine.state.gradientDepth > 0) return thunks; // a second-order tape may read them again
    // The engine calls this on its copy of the node whose inputs are only those on the path to the result.
    const pending = new Set(Object.keys((this ?? node).inputs));
    const handedOn = new Set<tf.Tensor>();
    const release = () => {
      dys.forEach((dy, i) => {
        const output = node.outputs[i];
        if (dy && output && dy.id > output.id && !handedOn.has(dy)) dy.dispose();
      });
      for (const t of node.saved ?? []) if (!handedOn.has(t)) t.dispose();
    };
    const wrapped: Record<string, () => tf.Tensor> = {};
    for (const [name, thunk] of Object.entries(thunks)) {
      wrapped[name] = () => {
        const dx = thunk();
        handedOn.add(dx);
        if (pending.delete(name) && pending.size === 0) release();
        return dx;
      };
    }
    return wrapped;
  };
}

/** Makes the engine's backward passes free as they go; true once installed (idempotent). */
export function installFreeingBackprop(engine = tf.engine() as unknown as EngineInternals): boolean {
  const marked = engine as unknown as Record<symbol, boolean>;
  if (marked[WRAPPED]) return true;
  const addTapeNode = engine.addTapeNode;
  if (typeof addTapeNode !== "function") return false;
  engine.addTapeNode = function (this: EngineInternals, ...args: unknown[]) {
    addTapeNode.apply(this, args);
    const tape = this.state.activeTape;
    const node = tape?.[tape.length - 1];
    if (node?.gradient) node.gradient = freeing(this, node, node.gradient);
  };
  marked[WRAPPED] = true;
  return true;
}
