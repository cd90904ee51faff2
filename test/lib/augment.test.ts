import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { IDENTITY, imageAugmenter, ImageAugmenter, previewAugmentation, TransformParams, sourceMatrix } from "../../lib/augment";
import type { FillMode } from "../../lib/augment";
import { mulberry32 } from "../../lib/random";
import { compileForClassification, evaluate, train } from "../../lib/train";
import { toyData, toyModel } from "./toy";

before(async () => {
  await tf.setBackend("cpu");
});

const FILLS: FillMode[] = ["nearest", "reflect", "constant"];

/** A batch of random float images in [0, 1]. */
function randomImages(n: number, h: number, w: number, c: number, seed = 1): tf.Tensor4D {
  return tf.randomUniform([n, h, w, c], 0, 1, "float32", seed) as tf.Tensor4D;
}

function at(data: ArrayLike<number>, shape: number[], i: number, y: number, x: number, k: number): number {
  const [, h, w, c] = shape;
  return data[((i * h + y) * w + x) * c + k];
}

function params(p: Partial<TransformParams>): TransformParams {
  return { ...IDENTITY, ...p };
}

test("a horizontal or vertical flip copies pixels exactly, in every fill mode and interpolation", () => {
  const x = randomImages(2, 5, 7, 3);
  const src = x.dataSync();
  for (const fillMode of FILLS) {
    for (const interpolation of ["bilinear", "nearest"] as const) {
      const aug = imageAugmenter({ fillMode, interpolation });
      const h = aug.transformBatch(x, [params({ flipHorizontal: true }), params({ flipHorizontal: true })]);
      const v = aug.transformBatch(x, [params({ flipVertical: true }), params({ flipVertical: true })]);
      const hd = h.dataSync();
      const vd = v.dataSync();
      for (let i = 0; i < 2; i++) for (let y = 0; y < 5; y++) for (let xx = 0; xx < 7; xx++) for (let k = 0; k < 3; k++) {
        assert.equal(at(hd, x.shape, i, y, xx, k), at(src, x.shape, i, y, 6 - xx, k), `${fillMode}/${interpolation} h-flip`);
        assert.equal(at(vd, x.shape, i, y, xx, k), at(src, x.shape, i, 4 - y, xx, k), `${fillMode}/${interpolation} v-flip`);
      }
      tf.dispose([h, v]);
    }
  }
  x.dispose();
});

test("a shift by whole pixels moves the content exactly, and each fill mode fills the uncovered border as it says", () => {
  const x = randomImages(1, 6, 8, 2, 3);
  const src = x.dataSync();
  const s = x.shape;
  const dx = 3; // content moves right by 3 and up by 2
  const dy = -2;
  for (const fillMode of FILLS) {
    const out = imageAugmenter({ fillMode, fillValue: 0.25 }).transformBatch(x, [params({ shiftX: dx, shiftY: dy })]);
    const d = out.dataSync();
    for (let y = 0; y < 6; y++) for (let xx = 0; xx < 8; xx++) for (let k = 0; k < 2; k++) {
      let sy = y - dy;
      let sx = xx - dx;
      const inside = sy >= 0 && sy < 6 && sx >= 0 && sx < 8;
      let expected: number;
      if (inside) expected = at(src, s, 0, sy, sx, k);
      else if (fillMode === "constant") expected = 0.25;
      else {
        if (fillMode === "nearest") {
          sy = Math.min(5, Math.max(0, sy));
          sx = Math.min(7, Math.max(0, sx));
        } else {
          if (sy >= 6) sy = 11 - sy; // mirror: row 6 reads row 5, row 7 reads row 4
          if (sx < 0) sx = -sx - 1; // column -1 reads column 0, -2 reads 1
        }
        expected = at(src, s, 0, sy, sx, k);
      }
      assert.equal(at(d, s, 0, y, xx, k), expected, `${fillMode} at (${y}, ${xx}, ${k})`);
    }
    out.dispose();
  }
  x.dispose();
});

test("a rotation by 90 degrees turns the image counter-clockwise (up to float rounding)", () => {
  const x = randomImages(1, 6, 6, 1, 4);
  const src = x.dataSync();
  const out = imageAugmenter().transformBatch(x, [params({ rotation: 90 })]);
  const d = out.dataSync();
  // Counter-clockwise on screen: the right column becomes the top row.
  for (let y = 0; y < 6; y++) for (let xx = 0; xx < 6; xx++) {
    assert.ok(Math.abs(at(d, x.shape, 0, y, xx, 0) - at(src, x.shape, 0, xx, 5 - y, 0)) < 1e-5);
  }
  tf.dispose([x, out]);
});

test("with constant fill and bilinear interpolation the resampler gives what tf.image.transform gives", () => {
  const x = randomImages(4, 9, 11, 3, 5);
  const ps = [
    params({ rotation: 17, shiftX: 1.3, shiftY: -0.6 }),
    params({ shear: 12, zoomX: 1.2, zoomY: 0.8 }),
    params({ flipHorizontal: true, rotation: -33, zoomX: 0.9, zoomY: 0.9 }),
    params({ shiftX: -2.5, shear: -8, flipVertical: true }),
  ];
  const ours = imageAugmenter({ fillMode: "constant", fillValue: 0 }).transformBatch(x, ps);
  // One image per call: tfjs 4.22's cpu Transform kernel returns after the first image of a batch.
  const ref = tf.concat(ps.map((p, i) =>
    tf.image.transform(tf.slice(x, i, 1), tf.tensor2d([[...sourceMatrix(p, 9, 11), 0, 0]]), "bilinear", "constant", 0)));
  const diff = tf.max(tf.abs(tf.sub(ours, ref))).dataSync()[0];
  assert.ok(diff < 1e-5, `largest difference ${diff}`);
  tf.dispose([x, ours, ref]);
});

test("every transform keeps the shape and the value range, in every fill mode", () => {
  const x = randomImages(8, 10, 12, 3, 6);
  for (const fillMode of FILLS) {
    for (const interpolation of ["bilinear", "nearest"] as const) {
      const aug = imageAugmenter({
        widthShiftRange: 0.3, heightShiftRange: 0.3, horizontalFlip: true, verticalFlip: true, rotationRange: 45,
        zoomRange: 0.3, shearRange: 20, fillMode, interpolation, fillValue: 0.5,
      });
      const out = aug.augmentBatch(x, mulberry32(7));
      assert.deepEqual(out.shape, x.shape);
      assert.equal(out.dtype, "float32");
      const d = out.dataSync();
      let changed = 0;
      const src = x.dataSync();
      for (let i = 0; i < d.length; i++) {
        assert.ok(d[i] >= 0 && d[i] <= 1, `${fillMode}/${interpolation}: value ${d[i]} left [0, 1]`);
        if (d[i] !== src[i]) changed++;
      }
      assert.ok(changed > d.length / 2, `${fillMode}/${interpolation}: only ${changed} values changed`);
      out.dispose();
    }
  }
  x.dispose();
});

test("a zoom below 1 shrinks the content and shows the fill value around it", () => {
  const x = tf.ones([1, 8, 8, 1]);
  const out = imageAugmenter({ fillMode: "constant", fillValue: 0 }).transformBatch(x, [params({ zoomX: 0.5, zoomY: 0.5 })]);
  const d = out.dataSync();
  assert.equal(d[0], 0); // corner: outside the shrunken image
  assert.equal(d[3 * 8 + 3], 1); // centre: inside it
  tf.dispose([x, out]);
});

test("the same seed gives the same augmented batches; another seed other ones", () => {
  const x = randomImages(6, 8, 8, 3, 8);
  const opts = { widthShiftRange: 0.1, heightShiftRange: 0.1, horizontalFlip: true, rotationRange: 10 };
  const a = imageAugmenter({ ...opts, seed: 11 });
  const s1 = a.stream();
  const s2 = a.stream();
  const s3 = imageAugmenter({ ...opts, seed: 12 }).stream();
  for (let batch = 0; batch < 2; batch++) {
    const [o1, o2, o3] = [s1(x), s2(x), s3(x)];
    assert.deepEqual(Array.from(o1.dataSync()), Array.from(o2.dataSync()));
    assert.notDeepEqual(Array.from(o1.dataSync()), Array.from(o3.dataSync()));
    tf.dispose([o1, o2, o3]);
  }
  // Successive batches of one stream get new transforms.
  const [b1, b2] = [s1(x), s1(x)];
  assert.notDeepEqual(Array.from(b1.dataSync()), Array.from(b2.dataSync()));
  tf.dispose([x, b1, b2]);
});

test("augmenting a batch leaves no tensors behind and does not change its input", () => {
  const x = randomImages(4, 8, 8, 3, 9);
  const before = Array.from(x.dataSync());
  const aug = imageAugmenter({ horizontalFlip: true, rotationRange: 20 });
  const stream = aug.stream();
  const n0 = tf.memory().numTensors;
  const out = stream(x);
  assert.equal(tf.memory().numTensors, n0 + 1);
  out.dispose();
  assert.equal(tf.memory().numTensors, n0);
  assert.deepEqual(Array.from(x.dataSync()), before);
  x.dispose();
});

/** An augmenter that counts the images it transforms. */
class CountingAugmenter extends ImageAugmenter {
  images = 0;
  override augmentBatch(images: tf.Tensor, rng: () => number): tf.Tensor4D {
    this.images += images.shape[0];
    return super.augmentBatch(images, rng);
  }
}

test("train() augments every training batch and never the validation data; no tensors leak", async () => {
  const data = toyData(48, 21);
  const val = toyData(24, 22);
  const valBefore = Array.from(val.x.dataSync());
  const aug = new CountingAugmenter({ heightShiftRange: 0.2, verticalFlip: true, seed: 3 });
  const model = compileForClassification(toyModel(), { learningRate: 0.01 });
  const h = await train(model, data, { epochs: 2, batchSize: 16, validationData: val, augment: aug, verbose: 0 });
  assert.equal(aug.images, 2 * 48, "each training image is augmented once per epoch");
  assert.deepEqual(Array.from(val.x.dataSync()), valBefore);
  // The last val_loss is the loss on the untouched validation images.
  const v = await evaluate(model, val);
  assert.ok(Math.abs(v.loss - (h.history.val_loss as number[])[1]) < 1e-5);
  // A second run on the same model (the optimizer's slots exist by now) must end with as many tensors as it began.
  const n0 = tf.memory().numTensors;
  const scratch = await train(model, data, { epochs: 1, batchSize: 16, validationData: val, augment: aug, verbose: 0 });
  assert.equal(tf.memory().numTensors, n0, "tensors leaked during augmented training");
  assert.equal(scratch.history.loss.length, 1);
  // Augmentation changed what was learnt: the same run without it ends elsewhere.
  const plain = compileForClassification(toyModel(), { learningRate: 0.01 });
  const h2 = await train(plain, data, { epochs: 2, batchSize: 16, validationData: val, verbose: 0 });
  assert.notEqual(h2.history.loss[1], h.history.loss[1]);
  // And a rerun with the same augmenter repeats it exactly.
  const again = compileForClassification(toyModel(), { learningRate: 0.01 });
  const h3 = await train(again, data, { epochs: 2, batchSize: 16, validationData: val, augment: aug, verbose: 0 });
  assert.deepEqual(h3.history.loss, h.history.loss);
  tf.dispose([data.x, data.y, val.x, val.y]);
  [model, plain, again].forEach((m) => m.dispose());
});

test("bad options and inputs get clear errors", () => {
  assert.throws(() => imageAugmenter({ widthShiftRange: 2 }), /widthShiftRange must be a number from 0 to 1/);
  assert.throws(() => imageAugmenter({ rotationRange: -5 }), /rotationRange/);
  assert.throws(() => imageAugmenter({ zoomRange: [1.2, 0.8] }), /zoomRange/);
  assert.throws(() => imageAugmenter({ fillMode: "wrap" as FillMode }), /fillMode must be one of nearest, reflect, constant/);
  assert.throws(() => imageAugmenter({ horizontal_flip: true } as never), /Unknown augmentation option\(s\) horizontal_flip/);
  const flat = tf.zeros([4, 8]);
  assert.throws(() => imageAugmenter().augmentBatch(flat, mulberry32(1)), /\[n, height, width, channels\]/);
  flat.dispose();
});

test("the preview shows the original and six augmented versions without leaking tensors", () => {
  const image = tf.randomUniform([12, 12, 3], 0, 1, "float32", 10);
  const n0 = tf.memory().numTensors;
  const fig = previewAugmentation(imageAugmenter({ horizontalFlip: true, widthShiftRange: 0.1 }), image, { show: false });
  assert.equal(tf.memory().numTensors, n0);
  const images = fig.data.filter((t) => t.type === "image");
  assert.equal(images.length, 7);
  const titles = ((fig.layout?.annotations ?? []) as { text: string }[]).map((a) => a.text);
  assert.deepEqual(titles, ["original", ...[1, 2, 3, 4, 5, 6].map((i) => `augmented ${i}`)]);
  assert.throws(() => previewAugmentation(imageAugmenter(), tf.zeros([2, 4, 4, 3])), /one image/);
  image.dispose();
});
