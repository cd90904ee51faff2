/**
 * Adam with its per-parameter arithmetic in one wasm kernel. tf.train.adam spends about fourteen elementwise
 * kernels (and as many passes over memory) per weight tensor per step; `LessonsAdam` gives the same float32
 * results from one pass (wasm/training_kernels.c: adam_update) when the wasm backend with our kernels is active,
 * and is exactly tf.train.adam everywhere else (cpu, tfjs-node). Its state is tf.train.adam's own (the same
 * moment variables), so getWeights/setWeights and everything built on them behave the same.
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, WasmBackendLike, compiledKernels, ptr, wasmKernel } from "./wasm-util";

export const ADAM_KERNEL = "LessonsAdamUpdate";

export type LessonsAdamUpdateInputs = { value: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo; g: tf.TensorInfo };

export type LessonsAdamUpdateAttrs = {
  beta1: number;
  beta2: number;
  /** 1 - beta1^t and 1 - beta2^t, the bias corrections of this step. */
  c1: number;
  c2: number;
  epsilon: number;
  learningRate: number;
};

/** The wasm kernel: inputs value, m, v, g (float32, same size); outputs new value, m and v. */
function adamUpdate(args: KernelArgs<LessonsAdamUpdateInputs, LessonsAdamUpdateAttrs>): tf.TensorInfo[] {
  const { inputs: { value, m, v, g }, backend, attrs: a } = args;
  const native = compiledKernels(backend);
  if (!native) throw new Error(`${ADAM_KERNEL} needs the compiled training kernels (wasm/training_kernels.wasm).`);
  const outs = [value, m, v].map((t) => backend.makeOutput(t.shape, "float32"));
  const f = Math.fround;
  native.adam_update(ptr(backend, value), ptr(backend, m), ptr(backend, v), ptr(backend, g), ptr(backend, outs[0]),
    ptr(backend, outs[1]), ptr(backend, outs[2]), tf.util.sizeFromShape(value.shape), f(a.beta1), f(1 - a.beta1),
    f(a.beta2), f(1 - a.beta2), f(a.c1), f(a.c2), f(a.epsilon), f(-a.learningRate));
  return outs;
}

export const adamUpdateConfig = wasmKernel(ADAM_KERNEL, adamUpdate);

/** What LessonsAdam reads of tf.train.adam's private state. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export class LessonsAdam extends tf.AdamOptimizer {
  constructor(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon as number);
  }

  /** True when this step can use the fused kernel (wasm backend, kernel registered, compiled kernels loaded). */
  private fused(): boolean {
    if (tf.getBackend() !== "wasm" || !tf.getKernel(ADAM_KERNEL, "wasm")) return false;
    return compiledKernels(tf.backend() as unknown as WasmBackendLike) !== undefined;
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer["applyGradients"]>[0]): void {
    if (!this.fused()) return super.applyGradients(variableGradients);
    const s = this as unknown as AdamState;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // 1 - beta^t as tf.train.adam computes it (a float32 subtraction of the float32 accumulated power).
    const c1 = Math.fround(1 - s.accBeta1.dataSync()[0]);
    const c2 = Math.fround(1 - s.accBeta2.dataSync()[0]);
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        s.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        s.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const g: tf.Tensor | undefined = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (g == null) return;
        const m = s.accumulatedFirstMoment[i]!.variable;
        const v = s.accumulatedSecondMoment[i]!.variable;
        if (value.dtype !== "float32" || g.dtype !== "float32") throw new Error(`Adam: weight '${name}' must be float32, got ${value.dtype}.`);
        const attrs: LessonsAdamUpdateAttrs = { beta1: s.beta1, beta2: s.beta2, c1, c2, epsilon: s.epsilon, learningRate: s.learningRate };
        const [newValue, newM, newV] = tf.engine().runKernel(ADAM_KERNEL, { value, m, v, g }, attrs) as tf.Tensor[];
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      });
      s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
      s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
    });
    this.incrementIterations();
  }
}

/** Adam for the lessons: fused on wasm, tf.train.adam elsewhere (same arguments and defaults as tf.train.adam). */
export function adam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number): tf.AdamOptimizer {
  return new LessonsAdam(learningRate, beta1, beta2, epsilon);
}
