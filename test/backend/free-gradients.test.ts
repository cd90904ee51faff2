/**
 * Backpropagation that frees each node's output gradients and saved tensors as soon as its input gradients are
 * made (lib/backend/free-gradients.ts): the same gradients bit for bit, a lower peak, no tensor leaked or freed
 * too early (a caller's dy, gradients handed on unchanged, second-order gradients).
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { randomArray, readyWasm } from "./helpers";
import { installFreeingBackprop, setFreeingBackprop } from "../../lib/backend/free-gradients";

/** A small network with every kind of node the lessons train: conv, batch norm, ReLU, a residual add, pooling, dropout, dense. */
function residualNetwork(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] });
  const conv = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  const normed = tf.layers.batchNormalization().apply(conv) as tf.SymbolicTensor;
  const branch = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(normed) as tf.SymbolicTensor;
  const added = tf.layers.add().apply([normed, branch]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalMaxPooling2d({}).apply(added) as tf.SymbolicTensor;
  const dropped = tf.layers.dropout({ rate: 0.2, seed: 3 }).apply(pooled) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 4, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(dropped) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

/** The loss's gradients with respect to every weight, and the step's peak bytes. */
async function gradientsOf(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): Promise<{ grads: Float32Array[]; peakBytes: number }> {
  let grads: Float32Array[] = [];
  const profile = await tf.profile(() => {
    const { grads: byName } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    grads = Object.keys(byName).sort().map((k) => byName[k]!.dataSync() as Float32Array);
    tf.dispose(byName);
  });
  return { grads, peakBytes: profile.peakBytes };
}

for (const backend of ["cpu", "wasm"] as const) {
  describe(`freeing backprop on ${backend}`, () => {
    before(async () => {
      if (backend === "wasm") await readyWasm();
      await tf.setBackend(backend);
      assert.equal(installFreeingBackprop(), true);
      assert.equal(installFreeingBackprop(), true, "installing twice is harmless");
    });

    it("gives the same gradients bit for bit with a lower peak, and leaks nothing", async () => {
      const model = residualNetwork();
      const x = tf.tensor4d(randomArray(16 * 12 * 12 * 3, 5), [16, 12, 12, 3]);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], "int32"), 4);
      setFreeingBackprop(false);
      await gradientsOf(model, x, y); // the first call builds what the layers cache
      const start = tf.memory().numTensors;
      const kept = await gradientsOf(model, x, y);
      const afterKept = tf.memory().numTensors;
      setFreeingBackprop(true);
      const freed = await gradientsOf(model, x, y);
      // (batch norm's moving statistics leave a tensor per call outside fit either way)
      assert.equal(tf.memory().numTensors - afterKept, afterKept - start, "no more tensors left behind than without freeing");
      assert.equal(freed.grads.length, kept.grads.length);
      freed.grads.forEach((g, i) => assert.deepEqual(Array.from(g), Array.from(kept.grads[i]!), `gradient ${i}`));
      assert.ok(freed.peakBytes < kept.peakBytes, `peak ${freed.peakBytes} bytes, was ${kept.peakBytes}`);
      tf.dispose([x, y]);
      model.dispose();
    });

    it("leaves a dy the caller passed, and gradients handed on unchanged, alive", () => {
      const x = tf.tensor1d([1, 2, 3]);
      const dy = tf.tensor1d([0.5, 1, 2]);
      // Reshape and identity-like gradients pass dy on; the caller still owns dy afterwards.
      const { value, grads } = tf.engine().gradients(() => tf.reshape(tf.mul(x, 2), [3]), [x], dy);
      assert.deepEqual(Array.from(grads[0]!.dataSync()), [1, 2, 4]);
      assert.deepEqual(Array.from(dy.dataSync()), [0.5, 1, 2], "the caller's dy is not disposed");
      const id = tf.grad((t: tf.Tensor) => tf.add(t, 0))(x);
      assert.deepEqual(Array.from(id.dataSync()), [1, 1, 1]);
      tf.dispose([x, dy, value, ...grads, id]);
    });

    it("second-order gradients still work (their tape keeps what it needs)", () => {
      const x = tf.tensor1d([1, 2, 3]);
      const d2 = tf.grad((t: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.mul(u, u), u)))(t).sum())(x);
      assert.deepEqual(Array.from(d2.dataSync()), [6, 12, 18], "d2/dx2 of x^3 is 6x");
      tf.dispose([x, d2]);
    });
  });
}
