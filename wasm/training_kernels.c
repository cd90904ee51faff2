/*
 * Training kernels for TensorFlow.js's wasm backend, compiled to a small WebAssembly module that imports the
 * backend's own memory, so they read and write tensors in place (pointers are byte offsets into that memory).
 * No libc, no static data; the (tiny) shadow stack is placed by the host in a block it allocates.
 * Build: scripts/build-wasm.sh (Debian clang + lld).
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define INLINE static inline __attribute__((always_inline))

/*
 * acc + a*b for the product sums of the convolution and matrix kernels. The relaxed-SIMD build (-mrelaxed-simd,
 * which defines __wasm_relaxed_simd__) uses f32x4.relaxed_madd, a fused multiply-add where the CPU has one (one
 * rounding instead of two, so results may differ from the plain build in the last bit); the plain build
 * multiplies and adds. Kernels whose numbers must equal tfjs's exactly (Adam, batch norm, elementwise) never use it.
 */
#ifdef __wasm_relaxed_simd__
#define MADD(acc, a, b) wasm_f32x4_relaxed_madd((a), (b), (acc))
#else
#define MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

INLINE int max_i(int a, int b) { return a > b ? a : b; }
INLINE int min_i(int a, int b) { return a < b ? a : b; }

/* First output index o with o*stride + k - pad >= 0, and one past the last with o*stride + k - pad < size. */
INLINE int first_valid(int k, int pad, int stride) {
  int need = pad - k; /* o*stride >= need */
  return need <= 0 ? 0 : (need + stride - 1) / stride;
}
INLINE int end_valid(int k, int pad, int stride, int size, int out) {
  int lim = size - 1 + pad - k; /* o*stride <= lim */
  if (lim < 0) return 0;
  return min_i(out, lim / stride + 1);
}

/*
 * The first n (1..4) floats at p as a vector, zeros after them; and the first n lanes of v stored at p. Lane
 * loads and stores: nothing beyond p[n - 1] is read or written, and no scratch array goes on the stack.
 */
INLINE v128_t load_lanes(const float *p, int n) {
  if (n == 4) return wasm_v128_load(p);
  v128_t v = n >= 2 ? wasm_v128_load64_zero(p) : wasm_v128_load32_zero(p);
  return n == 3 ? wasm_v128_load32_lane(p + 2, v, 2) : v;
}
INLINE void store_lanes(float *p, v128_t v, int n) {
  if (n == 4) {
    wasm_v128_store(p, v);
    return;
  }
  if (n >= 2) wasm_v128_store64_lane(p, v, 0);
  else wasm_v128_store32_lane(p, v, 0);
  if (n == 3) wasm_v128_store32_lane(p + 2, v, 2);
}

/*
 * One register tile of dW: NCI (1..4) input channels x NV (1..2) vectors of 4 output channels, accumulated over
 * a block of nrows x ncols output positions: dw[ci][co] += sum x[ci] * dy[co] over the block. x of position
 * (r, c) is at xb + r*x_row + c*x_step, dy at db + r*d_row + c*co_all. Lanes of the last vector beyond
 * co_valid are zero and not stored. Why 4x2: V8 (no FMA, so each product needs a scratch register) spills
 * part of a 4x3 tile's twelve accumulators on every step; eight accumulators, two dy vectors and the x splats
 * fit x64's sixteen vector registers, and measured 10-25% faster on the lessons' layer shapes.
 */
#define TILE_CI 4
#define TILE_V 2
INLINE void dw_tile(const float *xb, long x_row, int x_step, const float *db, long d_row, int co_all, int nrows,
                    int ncols, int nimg, long x_img, long d_img, float *dw, int co_dw, int nci, int nv, int co_valid) {
  v128_t acc[TILE_CI][TILE_V];
  for (int a = 0; a < TILE_CI; a++)
    for (int v = 0; v < TILE_V; v++) acc[a][v] = wasm_f32x4_splat(0);
  /* Lanes of the last vector beyond co_valid read zeros: no product with whatever follows dy (see conv_tile). */
  int last = co_valid - 4 * (nv - 1);
  for (int rr = 0; rr < nimg * nrows; rr++) {
    int m = rr / nrows, r = rr - m * nrows;
    const float *xp = xb + m * x_img + r * x_row;
    const float *dp = db + m * d_img + r * d_row;
    for (int c = 0; c < ncols; c++, xp += x_step, dp += co_all) {
      v128_t d[TILE_V];
      for (int v = 0; v < TILE_V; v++)
        if (v < nv) d[v] = v == nv - 1 ? load_lanes(dp + 4 * v, last) : wasm_v128_load(dp + 4 * v);
      for (int a = 0; a < TILE_CI; a++) {
        if (a >= nci) break;
        v128_t xv = wasm_v128_load32_splat(xp + a);
        for (int v = 0; v < TILE_V; v++)
          if (v < nv) acc[a][v] = MADD(acc[a][v], xv, d[v]);
      }
    }
  }
  for (int a = 0; a < nci; a++) {
    float *o = dw + (long)a * co_dw;
    if (co_valid == 4 * nv) {
      for (int v = 0; v < TILE_V; v++)
        if (v < nv) wasm_v128_store(o + 4 * v, wasm_f32x4_add(wasm_v128_load(o + 4 * v), acc[a][v]));
    } else {
      for (int v = 0; v < nv; v++) {
        int n = v == nv - 1 ? last : 4;
        store_lanes(o + 4 * v, wasm_f32x4_add(load_lanes(o + 4 * v, n), acc[a][v]), n);
      }
    }
  }
}

/* Dispatch to a tile specialised for constant (nci, nv), so the compiler keeps every accumulator in a register. */
static void dw_tile_any(const float *xb, long x_row, int x_step, const float *db, long d_row, int co_all, int nrows,
                        int ncols, int nimg, long x_img, long d_img, float *dw, int co_dw, int nci, int nv,
                        int co_valid) {
#define CASE(I, V) \
  case (I)*4 + (V): \
    dw_tile(xb, x_row, x_step, db, d_row, co_all, nrows, ncols, nimg, x_img, d_img, dw, co_dw, I, V, co_valid); \
    return;
  switch (nci * 4 + nv) {
    CASE(1, 1) CASE(1, 2) CASE(2, 1) CASE(2, 2) CASE(3, 1) CASE(3, 2) CASE(4, 1) CASE(4, 2)
  }
#undef CASE
}

/*
 * Conv2DBackpropFilter, NHWC: dw[kh][kw][ci][co] = sum_{b,oh,ow} x[b][oh*sh+kh-pt][ow*sw+kw-pl][ci] * dy[b][oh][ow][co].
 * dw must be zeroed by the caller. Per group of images and filter tap, each tile sums over all valid output
 * positions of the group (its x and dy stay in cache across tiles). A group is one image, or for small outputs
 * enough images for 64 positions, so that a tile's sum is long enough to pay for loading and storing its part
 * of dw (a 2x2 output alone made it 3x slower).
 */
EXPORT(conv2d_backprop_filter)
void conv2d_backprop_filter(const float *x, const float *dy, float *dw, int n, int h, int w, int ci, int oh, int ow,
                            int co, int kh, int kw, int sh, int sw, int pt, int pl) {
  int group = max_i(1, 64 / max_i(1, oh * ow));
  long x_img = (long)h * w * ci, d_img = (long)oh * ow * co;
  for (int b = 0; b < n; b += group) {
    int nimg = min_i(group, n - b);
    for (int i = 0; i < kh; i++) {
      int oh0 = first_valid(i, pt, sh), oh1 = end_valid(i, pt, sh, h, oh);
      if (oh0 >= oh1) continue;
      for (int j = 0; j < kw; j++) {
        int ow0 = first_valid(j, pl, sw), ow1 = end_valid(j, pl, sw, w, ow);
        if (ow0 >= ow1) continue;
        float *dw_kk = dw + ((long)(i * kw + j) * ci) * co;
        const float *xb = x + (((long)b * h + (oh0 * sh + i - pt)) * w + (ow0 * sw + j - pl)) * ci;
        const float *db = dy + (((long)b * oh + oh0) * ow + ow0) * co;
        /* Where the positions follow one another in memory (a 1x1 stride-1 layer: whole rows, then whole images),
           they are summed as one long row, in the same order: the per-row setup was a fifth of a short row's time. */
        int nrows = oh1 - oh0, ncols = ow1 - ow0, groups = nimg;
        if (ncols == ow && (long)sh * w == (long)ncols * sw) {
          ncols *= nrows;
          nrows = 1;
          if (ncols == oh * ow && (long)h * w == (long)ncols * sw) {
            ncols *= nimg;
            groups = 1;
          }
        }
        for (int c0 = 0; c0 < ci; c0 += TILE_CI) {
          int nci = min_i(TILE_CI, ci - c0);
          for (int o0 = 0; o0 < co; o0 += 4 * TILE_V) {
            int valid = min_i(4 * TILE_V, co - o0);
            dw_tile_any(xb + c0, (long)sh * w * ci, sw * ci, db + o0, (long)ow * co, co, nrows, ncols, groups,
                        x_img, d_img, dw_kk + (long)c0 * co + o0, co, nci, (valid + 3) / 4, valid);
          }
        }
      }
    }
  }
}

/*
 * ReLU's gradient, out = dy * step(x) with step(x) = 1 for x > 0, NaN for NaN, else 0: the same numbers as
 * tfjs's dy * cast(step(x)) in one pass instead of three kernels.
 */
INLINE v128_t relu_step4(v128_t x) {
  const v128_t one = wasm_f32x4_splat(1), zero = wasm_f32x4_splat(0), nan = wasm_f32x4_splat(__builtin_nanf(""));
  v128_t step = wasm_v128_bitselect(one, zero, wasm_f32x4_gt(x, zero));
  return wasm_v128_bitselect(nan, step, wasm_f32x4_ne(x, x));
}
INLINE float relu_step(float x) { return x > 0 ? 1.0f : (x != x ? __builtin_nanf("") : 0.0f); }

/*
 * One whole 2x2 window of disjoint windows, four channels at a time (the channels beyond the last multiple of 4
 * are left to the caller): max_pool_grad's search below, written out. g0..g3 say that the value at window
 * position 0..3 beat the best so far; the last position to do so wins (none may, as in an all-NaN window).
 */
INLINE void pool_grad_2x2(const float *x, float *dx, const float *g, long row, int c, int relu_mask) {
  const v128_t zero = wasm_f32x4_splat(0), minus_inf = wasm_f32x4_splat(-__builtin_inff());
  for (int ch = 0; ch + 4 <= c; ch += 4) {
    const float *p0 = x + ch, *p1 = x + c + ch, *p2 = x + row + ch, *p3 = x + row + c + ch;
    v128_t v0 = wasm_v128_load(p0), v1 = wasm_v128_load(p1), v2 = wasm_v128_load(p2), v3 = wasm_v128_load(p3);
    v128_t g0 = wasm_f32x4_gt(v0, minus_inf);
    v128_t best = wasm_v128_bitselect(v0, minus_inf, g0);
    v128_t g1 = wasm_f32x4_gt(v1, best);
    best = wasm_v128_bitselect(v1, best, g1);
    v128_t g2 = wasm_f32x4_gt(v2, best);
    best = wasm_v128_bitselect(v2, best, g2);
    v128_t g3 = wasm_f32x4_gt(v3, best);
    /* Winner masks: position k won when it beat the best and no later position did. */
    v128_t later2 = g3, later1 = wasm_v128_or(g2, later2), later0 = wasm_v128_or(g1, later1);
    v128_t w2 = wasm_v128_andnot(g2, later2);
    v128_t w1 = wasm_v128_andnot(g1, later1);
    v128_t w0 = wasm_v128_andnot(g0, later0);
    v128_t gv = wasm_v128_load(g + ch);
    /* 0 + masked dy, as the add into a cleared dx gives (so a -0 dy still lands as +0). */
    v128_t d0 = wasm_f32x4_add(zero, wasm_v128_and(gv, w0)), d1 = wasm_f32x4_add(zero, wasm_v128_and(gv, w1));
    v128_t d2 = wasm_f32x4_add(zero, wasm_v128_and(gv, w2)), d3 = wasm_f32x4_add(zero, wasm_v128_and(gv, g3));
    if (relu_mask) {
      d0 = wasm_f32x4_mul(d0, relu_step4(v0));
      d1 = wasm_f32x4_mul(d1, relu_step4(v1));
      d2 = wasm_f32x4_mul(d2, relu_step4(v2));
      d3 = wasm_f32x4_mul(d3, relu_step4(v3));
    }
    wasm_v128_store(dx + ch, d0);
    wasm_v128_store(dx + c + ch, d1);
    wasm_v128_store(dx + row + ch, d2);
    wasm_v128_store(dx + row + c + ch, d3);
  }
}

/*
 * MaxPoolGrad, NHWC, as tfjs's cpu backend does it: each window's search starts at -infinity and moves only to
 * a strictly greater value, and dy goes to where it stopped, the FIRST maximum in row-major order. A NaN never
 * wins, and a window of only NaN or -infinity passes no gradient. dx is overwritten (the kernel clears it
 * first). Four channels at a time: the winning window position is tracked per lane, then dy is added to every
 * position under a lane mask, so overlapping windows also work.
 */
INLINE void max_pool_grad_op(const float *x, const float *dy, float *dx, int n, int h, int w, int c, int oh, int ow,
                             int fh, int fw, int sh, int sw, int pt, int pl, int relu_mask) {
  const long image = (long)h * w * c;
  /* Disjoint windows (stride >= size, the usual 2x2/2) write their positions directly instead of adding; when
     they also tile the whole image nothing needs clearing first. */
  const int disjoint = sh >= fh && sw >= fw;
  const int covers = disjoint && sh == fh && sw == fw && pt == 0 && pl == 0 && oh * sh == h && ow * sw == w;
  const int two_by_two = disjoint && fh == 2 && fw == 2;
  const v128_t zero = wasm_f32x4_splat(0);
  for (int b = 0; b < n; b++) {
    const float *xb = x + b * image;
    float *dxb = dx + b * image;
    /* Clear this image's dx here (not in the caller): it is then still in cache for the writes below, and each
       thread clears its own part of the batch. */
    if (!covers) {
      long z = 0;
      if (relu_mask) {
        for (; z + 4 <= image; z += 4) wasm_v128_store(dxb + z, wasm_f32x4_mul(zero, relu_step4(wasm_v128_load(xb + z))));
        for (; z < image; z++) dxb[z] = 0.0f * relu_step(xb[z]);
      } else {
        for (; z + 4 <= image; z += 4) wasm_v128_store(dxb + z, zero);
        for (; z < image; z++) dxb[z] = 0;
      }
    }
    for (int p = 0; p < oh; p++) {
      int r0 = max_i(p * sh - pt, 0), r1 = min_i(p * sh - pt + fh, h);
      if (r0 >= r1) continue;
      for (int q = 0; q < ow; q++) {
        int c0 = max_i(q * sw - pl, 0), c1 = min_i(q * sw - pl + fw, w);
        if (c0 >= c1) continue;
        const float *g = dy + (((long)b * oh + p) * ow + q) * c;
        const long origin = ((long)r0 * w + c0) * c;
        int ch = 0;
        if (two_by_two && r1 - r0 == 2 && c1 - c0 == 2) {
          pool_grad_2x2(xb + origin, dxb + origin, g, (long)w * c, c, relu_mask);
          ch = c - c % 4;
        }
        for (; ch + 4 <= c; ch += 4) {
          v128_t best = wasm_f32x4_splat(-__builtin_inff());
          v128_t at = wasm_i32x4_splat(-1);
          int k = 0;
          for (int r = r0; r < r1; r++) {
            for (int col = c0; col < c1; col++, k++) {
              v128_t v = wasm_v128_load(xb + ((long)r * w + col) * c + ch);
              v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              at = wasm_v128_bitselect(wasm_i32x4_splat(k), at, gt);
            }
          }
          v128_t gv = wasm_v128_load(g + ch);
          k = 0;
          for (int r = r0; r < r1; r++) {
            for (int col = c0; col < c1; col++, k++) {
              float *d = dxb + ((long)r * w + col) * c + ch;
              /* 0 + masked dy, as the add into a cleared dx gives (so a -0 dy still lands as +0). */
              v128_t add = wasm_f32x4_add(zero, wasm_v128_and(gv, wasm_i32x4_eq(at, wasm_i32x4_splat(k))));
              if (relu_mask) add = wasm_f32x4_mul(add, relu_step4(wasm_v128_load(xb + ((long)r * w + col) * c + ch)));
              wasm_v128_store(d, disjoint ? add : wasm_f32x4_add(wasm_v128_load(d), add));
            }
          }
        }
        for (; ch < c; ch++) {
          float best = -__builtin_inff();
          long at = -1;
          for (int r = r0; r < r1; r++) {
            for (int col = c0; col < c1; col++) {
              long i = ((long)r * w + col) * c + ch;
              if (disjoint) dxb[i] = 0;
              if (xb[i] > best) {
                best = xb[i];
                at = i;
              }
            }
          }
          if (at >= 0) dxb[at] += g[ch];
          if (relu_mask) {
            for (int r = r0; r < r1; r++) {
              for (int col = c0; col < c1; col++) {
                long i = ((long)r * w + col) * c + ch;
                dxb[i] = dxb[i] * relu_step(xb[i]);
              }
            }
          }
        }
      }
    }
  }
}

/*
 * relu_mask 1 (disjoint windows only; the caller checks): dx * step(x) for an x that is a ReLU's output, the
 * numbers of relu_grad applied to this kernel's dx (every position, the cleared ones too), without writing and
 * reading dx twice: the gradient through max pooling and the ReLU before it in one pass.
 */
EXPORT(max_pool_grad)
void max_pool_grad(const float *x, const float *dy, float *dx, int n, int h, int w, int c, int oh, int ow, int fh,
                   int fw, int sh, int sw, int pt, int pl, int relu_mask) {
  if (relu_mask) max_pool_grad_op(x, dy, dx, n, h, w, c, oh, ow, fh, fw, sh, sw, pt, pl, 1);
  else max_pool_grad_op(x, dy, dx, n, h, w, c, oh, ow, fh, fw, sh, sw, pt, pl, 0);
}

/*
 * out[j] = sum_i x[i][j] for x of shape [rows, cols]: a sum over leading axes without a transpose. Up to
 * SUM_COLS columns the sums live in a small buffer and x is read once, row by row (columns beyond the last
 * multiple of 4, like the two of a 50-channel bias, included); wider inputs go column block by column block.
 */
#define SUM_COLS 2048
EXPORT(sum_rows)
void sum_rows(const float *x, float *out, int rows, int cols) {
  if (cols <= SUM_COLS) {
    float acc[SUM_COLS];
    int vec = cols & ~3;
    for (int j = 0; j < cols; j++) acc[j] = 0;
    for (int i = 0; i < rows; i++) {
      const float *row = x + (long)i * cols;
      for (int j = 0; j < vec; j += 4) wasm_v128_store(acc + j, wasm_f32x4_add(wasm_v128_load(acc + j), wasm_v128_load(row + j)));
      for (int j = vec; j < cols; j++) acc[j] += row[j];
    }
    for (int j = 0; j < cols; j++) out[j] = acc[j];
    return;
  }
  int j = 0;
  for (; j + 4 <= cols; j += 4) {
    v128_t acc = wasm_f32x4_splat(0);
    for (int i = 0; i < rows; i++) acc = wasm_f32x4_add(acc, wasm_v128_load(x + (long)i * cols + j));
    wasm_v128_store(out + j, acc);
  }
  for (; j < cols; j++) {
    float s = 0;
    for (int i = 0; i < rows; i++) s += x[(long)i * cols + j];
    out[j] = s;
  }
}

/*
 * Max over the middle axis of x [outer, mid, inner] (global max pooling: [N, H*W, C]): out[o][c] =
 * max_m x[o][m][c]: a later value replaces the maximum so far when it is greater or NaN, as in tfjs's Max (so
 * NaN propagates, and of -0 and 0 the first stays). No transpose of x, unlike the stock kernel.
 */
EXPORT(max_middle)
void max_middle(const float *x, float *out, int outer, int mid, int inner) {
  int vec = inner & ~3;
  for (int o = 0; o < outer; o++) {
    const float *xo = x + (long)o * mid * inner;
    float *yo = out + (long)o * inner;
    for (int c = 0; c < vec; c += 4) {
      v128_t m = wasm_v128_load(xo + c);
      for (int i = 1; i < mid; i++) {
        v128_t v = wasm_v128_load(xo + (long)i * inner + c);
        m = wasm_v128_bitselect(v, m, wasm_v128_or(wasm_f32x4_gt(v, m), wasm_f32x4_ne(v, v)));
      }
      wasm_v128_store(yo + c, m);
    }
    for (int c = vec; c < inner; c++) {
      float m = xo[c];
      for (int i = 1; i < mid; i++) {
        float v = xo[(long)i * inner + c];
        if (v > m || v != v) m = v;
      }
      yo[c] = m;
    }
  }
}

/*
 * max_middle's gradient: dx[o][m][c] = dy[o][c] * (x[o][m][c] == y[o][c] ? 1 : 0), tfjs's dy * cast(x == y) in
 * one pass (every tied maximum gets dy, as there).
 */
EXPORT(max_middle_grad)
void max_middle_grad(const float *x, const float *y, const float *dy, float *dx, int outer, int mid, int inner) {
  int vec = inner & ~3;
  v128_t one = wasm_f32x4_splat(1.0f);
  for (int o = 0; o < outer; o++) {
    const float *yo = y + (long)o * inner, *go = dy + (long)o * inner;
    for (int i = 0; i < mid; i++) {
      long row = ((long)o * mid + i) * inner;
      for (int c = 0; c < vec; c += 4) {
        v128_t eq = wasm_v128_and(wasm_f32x4_eq(wasm_v128_load(x + row + c), wasm_v128_load(yo + c)), one);
        wasm_v128_store(dx + row + c, wasm_f32x4_mul(wasm_v128_load(go + c), eq));
      }
      for (int c = vec; c < inner; c++) dx[row + c] = go[c] * (x[row + c] == yo[c] ? 1.0f : 0.0f);
    }
  }
}

/*
 * The variance half of tf.moments over leading axes: out[j] = sum_i (x[i][j] - mean[j])^2 for x [rows, cols], the
 * same subtractions, squares and row-by-row sums as tfjs's square(x - mean) followed by sum_rows, without the two
 * full-size tensors in between. Up to SUM_COLS columns (the caller checks).
 */
EXPORT(sq_dev_rows)
void sq_dev_rows(const float *x, const float *mean, float *out, int rows, int cols) {
  float acc[SUM_COLS];
  int vec = cols & ~3;
  for (int j = 0; j < cols; j++) acc[j] = 0;
  for (int i = 0; i < rows; i++) {
    const float *row = x + (long)i * cols;
    for (int j = 0; j < vec; j += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(row + j), wasm_v128_load(mean + j));
      wasm_v128_store(acc + j, wasm_f32x4_add(wasm_v128_load(acc + j), wasm_f32x4_mul(d, d)));
    }
    for (int j = vec; j < cols; j++) {
      float d = row[j] - mean[j];
      acc[j] += d * d;
    }
  }
  for (int j = 0; j < cols; j++) out[j] = acc[j];
}

/*
 * The gradient of tf.moments over leading axes for x [rows, cols]: dx = dmean/n + (dvar/n) * ((x - mean) * 2),
 * with coef = [mean, dmean/n, dvar/n] (3 x cols, prepared by the caller). tfjs's chain of Mean, Square and Sub
 * gradients computes the same terms in five full-size passes.
 */
EXPORT(moments_grad)
void moments_grad(const float *x, const float *coef, float *dx, int rows, int cols) {
  const float *mean = coef, *dm = coef + cols, *dv = coef + 2 * cols;
  int vec = cols & ~3;
  v128_t two = wasm_f32x4_splat(2.0f);
  for (int i = 0; i < rows; i++) {
    const float *xr = x + (long)i * cols;
    float *o = dx + (long)i * cols;
    for (int j = 0; j < vec; j += 4) {
      v128_t d = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + j), wasm_v128_load(mean + j)), two);
      wasm_v128_store(o + j, wasm_f32x4_add(wasm_v128_load(dm + j), wasm_f32x4_mul(wasm_v128_load(dv + j), d)));
    }
    for (int j = vec; j < cols; j++) o[j] = dm[j] + dv[j] * ((xr[j] - mean[j]) * 2.0f);
  }
}

/*
 * Elementwise a OP b over [rows, cols] where each operand is either full ([rows, cols], mode 0), one value per
 * column ([cols], broadcast over rows, mode 1), a scalar (mode 2) or one value per row ([rows, 1], broadcast
 * over columns, mode 3). op: 0 add, 1 subtract, 2 multiply, 3 divide. Covers the broadcasts of BatchNorm's and
 * bias terms and of softmax's normalisation, which the stock kernels run through a slow generic loop.
 */
INLINE v128_t apply_op(v128_t a, v128_t b, int op) {
  return op == 0 ? wasm_f32x4_add(a, b) : op == 1 ? wasm_f32x4_sub(a, b) : op == 2 ? wasm_f32x4_mul(a, b) : wasm_f32x4_div(a, b);
}
INLINE float apply_op1(float a, float b, int op) { return op == 0 ? a + b : op == 1 ? a - b : op == 2 ? a * b : a / b; }

/* Row i of an operand in mode m: its own row (0), the shared row (1), the scalar (2) or its row's value (3). */
INLINE const float *operand_row(const float *p, int mode, int i, int cols) {
  return mode == 0 ? p + (long)i * cols : mode == 3 ? p + i : p;
}

INLINE void binary_rows_op(const float *a, const float *b, float *out, int rows, int cols, int am, int bm, int op) {
  int a_one = am >= 2, b_one = bm >= 2; /* one value for the whole row */
  for (int i = 0; i < rows; i++) {
    const float *ar = operand_row(a, am, i, cols);
    const float *br = operand_row(b, bm, i, cols);
    float *o = out + (long)i * cols;
    int j = 0;
    if (!a_one && !b_one) {
      for (; j + 4 <= cols; j += 4) wasm_v128_store(o + j, apply_op(wasm_v128_load(ar + j), wasm_v128_load(br + j), op));
      for (; j < cols; j++) o[j] = apply_op1(ar[j], br[j], op);
    } else if (a_one) {
      v128_t av = wasm_f32x4_splat(ar[0]);
      for (; j + 4 <= cols; j += 4) wasm_v128_store(o + j, apply_op(av, b_one ? wasm_f32x4_splat(br[0]) : wasm_v128_load(br + j), op));
      for (; j < cols; j++) o[j] = apply_op1(ar[0], b_one ? br[0] : br[j], op);
    } else {
      v128_t bv = wasm_f32x4_splat(br[0]);
      for (; j + 4 <= cols; j += 4) wasm_v128_store(o + j, apply_op(wasm_v128_load(ar + j), bv, op));
      for (; j < cols; j++) o[j] = apply_op1(ar[j], br[0], op);
    }
  }
}

EXPORT(binary_rows)
void binary_rows(const float *a, const float *b, float *out, int rows, int cols, int am, int bm, int op) {
  if (op == 0) binary_rows_op(a, b, out, rows, cols, am, bm, 0);
  else if (op == 1) binary_rows_op(a, b, out, rows, cols, am, bm, 1);
  else if (op == 2) binary_rows_op(a, b, out, rows, cols, am, bm, 2);
  else binary_rows_op(a, b, out, rows, cols, am, bm, 3);
}

/*
 * DepthwiseConv2dNativeBackpropFilter, NHWC, channel multiplier m:
 * dw[i][j][c*m+k] += sum_{b,p,q} x[b][p*sh+i-pt][q*sw+j-pl][c] * dy[b][p][q][c*m+k]. dw must be zeroed.
 * Loops over output positions outermost so that all of dw (KH*KW*C*m floats) stays in L1.
 */
EXPORT(depthwise_backprop_filter)
void depthwise_backprop_filter(const float *x, const float *dy, float *dw, int n, int h, int w, int c, int oh, int ow,
                               int m, int kh, int kw, int sh, int sw, int pt, int pl) {
  int cm = c * m;
  for (int b = 0; b < n; b++) {
    for (int p = 0; p < oh; p++) {
      for (int q = 0; q < ow; q++) {
        const float *g = dy + (((long)b * oh + p) * ow + q) * cm;
        for (int i = 0; i < kh; i++) {
          int r = p * sh + i - pt;
          if (r < 0 || r >= h) continue;
          for (int j = 0; j < kw; j++) {
            int col = q * sw + j - pl;
            if (col < 0 || col >= w) continue;
            const float *xr = x + (((long)b * h + r) * w + col) * c;
            float *d = dw + (long)(i * kw + j) * cm;
            if (m == 1) {
              int ch = 0;
              for (; ch + 4 <= c; ch += 4) {
                v128_t acc = wasm_v128_load(d + ch);
                acc = MADD(acc, wasm_v128_load(xr + ch), wasm_v128_load(g + ch));
                wasm_v128_store(d + ch, acc);
              }
              for (; ch < c; ch++) d[ch] += xr[ch] * g[ch];
            } else {
              for (int ch = 0; ch < c; ch++) {
                float xv = xr[ch];
                for (int k = 0; k < m; k++) d[ch * m + k] += xv * g[ch * m + k];
              }
            }
          }
        }
      }
    }
  }
}

/*
 * FusedBatchNorm's forward pass over [rows, cols] (cols = channels): out = (x - mean[c]) * k[c] + offset[c],
 * with k = scale / sqrt(variance + eps) prepared per channel by the caller; coef holds mean, k, offset (3 x cols).
 */
EXPORT(batch_norm_rows)
void batch_norm_rows(const float *x, const float *coef, float *out, int rows, int cols) {
  const float *mean = coef, *k = coef + cols, *offset = coef + 2 * cols;
  for (int i = 0; i < rows; i++) {
    const float *xr = x + (long)i * cols;
    float *o = out + (long)i * cols;
    int j = 0;
    for (; j + 4 <= cols; j += 4) {
      v128_t centred = wasm_f32x4_sub(wasm_v128_load(xr + j), wasm_v128_load(mean + j));
      wasm_v128_store(o + j, wasm_f32x4_add(wasm_f32x4_mul(centred, wasm_v128_load(k + j)), wasm_v128_load(offset + j)));
    }
    for (; j < cols; j++) o[j] = (xr[j] - mean[j]) * k[j] + offset[j];
  }
}

/*
 * One Adam step for `size` parameters, in the same float32 operations and order as tf.train.adam, so the results
 * are identical: m' = m*b1 + g*(1-b1); v' = v*b2 + (g*g)*(1-b2);
 * value' = ((m'/c1) / (sqrt(v'/c2) + eps)) * (-lr) + value, with c1 = 1 - b1^t and c2 = 1 - b2^t.
 * Writes to new buffers (tensors are immutable; a variable's data may be shared).
 */
EXPORT(adam_update)
void adam_update(const float *value, const float *m, const float *v, const float *g, float *value_out, float *m_out,
                 float *v_out, int size, float b1, float one_minus_b1, float b2, float one_minus_b2, float c1, float c2,
                 float eps, float neg_lr) {
  int i = 0;
  v128_t vb1 = wasm_f32x4_splat(b1), vob1 = wasm_f32x4_splat(one_minus_b1), vb2 = wasm_f32x4_splat(b2);
  v128_t vob2 = wasm_f32x4_splat(one_minus_b2), vc1 = wasm_f32x4_splat(c1), vc2 = wasm_f32x4_splat(c2);
  v128_t veps = wasm_f32x4_splat(eps), vlr = wasm_f32x4_splat(neg_lr);
  for (; i + 4 <= size; i += 4) {
    v128_t gi = wasm_v128_load(g + i);
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), vb1), wasm_f32x4_mul(gi, vob1));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), vb2), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), vob2));
    v128_t step = wasm_f32x4_div(wasm_f32x4_div(mi, vc1), wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(vi, vc2)), veps));
    wasm_v128_store(value_out + i, wasm_f32x4_add(wasm_f32x4_mul(step, vlr), wasm_v128_load(value + i)));
    wasm_v128_store(m_out + i, mi);
    wasm_v128_store(v_out + i, vi);
  }
  for (; i < size; i++) {
    float mi = m[i] * b1 + g[i] * one_minus_b1;
    float vi = v[i] * b2 + (g[i] * g[i]) * one_minus_b2;
    float step = (mi / c1) / (__builtin_sqrtf(vi / c2) + eps);
    value_out[i] = step * neg_lr + value[i];
    m_out[i] = mi;
    v_out[i] = vi;
  }
}

/*
 * A convolution's bias and activation, applied to one vector of sums before it is stored (act: EPI_BIAS adds
 * bias[0..n-1], zero to the lanes after them, EPI_RELU then takes max(v, 0)): the same additions and maximum as
 * bias_act_rows's vector path.
 */
#define EPI_BIAS 1
#define EPI_RELU 2
/* conv_tile only: start from the sums already in out (a matrix product summed block of K by block of K). */
#define EPI_LOAD 4
INLINE v128_t epilogue(v128_t v, const float *bias, int n, int act) {
  if (act & EPI_BIAS) v = wasm_f32x4_add(v, load_lanes(bias, n));
  if (act & EPI_RELU) v = wasm_f32x4_max(v, wasm_f32x4_splat(0));
  return v;
}

/*
 * One register tile of a forward convolution: NP (1..4) output pixels of one output row x NV (1..2) vectors of
 * 4 output channels. Input pixel a of the tile starts at xb + a*p_step; for each of the kh filter rows r the
 * kw*ci values under the filter are contiguous (x + r*x_row), and so are the matching filter rows (w + r*w_row,
 * one row of co floats per value). The same 4x2 shape as dw_tile, for the same register reasons.
 */
INLINE void conv_tile(const float *xb, long x_row, int p_step, const float *wb, long w_row, int co, int kh, int k,
                      float *out, int o_step, int np, int nv, int co_valid, const float *bias, int act) {
  v128_t acc[4][2];
  for (int a = 0; a < 4; a++) acc[a][0] = acc[a][1] = wasm_f32x4_splat(0);
  if (act & EPI_LOAD) {
    for (int a = 0; a < np; a++) {
      const float *o = out + (long)a * o_step;
      if (co_valid == 4 * nv) {
        acc[a][0] = wasm_v128_load(o);
        if (nv > 1) acc[a][1] = wasm_v128_load(o + 4);
      } else {
        acc[a][0] = load_lanes(o, min_i(4, co_valid));
        if (co_valid > 4) acc[a][1] = load_lanes(o + 4, co_valid - 4);
      }
    }
  }
  /* Lanes of the last vector beyond co_valid read zeros, not what follows w (a malloc header reads as denormal
   * floats, and a product with a denormal takes a slow microcode path on x86). */
  int last = co_valid - 4 * (nv - 1);
  for (int r = 0; r < kh; r++) {
    const float *xp = xb + r * x_row;
    const float *wp = wb + r * w_row;
    for (int c = 0; c < k; c++, wp += co) {
      v128_t d0, d1;
      if (nv > 1) {
        d0 = wasm_v128_load(wp);
        d1 = load_lanes(wp + 4, last);
      } else {
        d0 = d1 = load_lanes(wp, last);
      }
      for (int a = 0; a < 4; a++) {
        if (a >= np) break;
        v128_t xv = wasm_v128_load32_splat(xp + a * p_step + c);
        acc[a][0] = MADD(acc[a][0], xv, d0);
        if (nv > 1) acc[a][1] = MADD(acc[a][1], xv, d1);
      }
    }
  }
  if (act & (EPI_BIAS | EPI_RELU)) {
    for (int a = 0; a < np; a++) {
      acc[a][0] = epilogue(acc[a][0], bias, nv > 1 ? 4 : last, act);
      if (nv > 1) acc[a][1] = epilogue(acc[a][1], bias + 4, last, act);
    }
  }
  for (int a = 0; a < np; a++) {
    float *o = out + (long)a * o_step;
    if (co_valid == 4 * nv) {
      wasm_v128_store(o, acc[a][0]);
      if (nv > 1) wasm_v128_store(o + 4, acc[a][1]);
    } else {
      store_lanes(o, acc[a][0], min_i(4, co_valid));
      if (co_valid > 4) store_lanes(o + 4, acc[a][1], co_valid - 4);
    }
  }
}

static void conv_tile_any(const float *xb, long x_row, int p_step, const float *wb, long w_row, int co, int kh, int k,
                          float *out, int o_step, int np, int nv, int co_valid, const float *bias, int act) {
#define CASE(P, V) \
  case (P)*4 + (V): conv_tile(xb, x_row, p_step, wb, w_row, co, kh, k, out, o_step, P, V, co_valid, bias, act); return;
  switch (np * 4 + nv) {
    CASE(1, 1) CASE(1, 2) CASE(2, 1) CASE(2, 2) CASE(3, 1) CASE(3, 2) CASE(4, 1) CASE(4, 2)
  }
#undef CASE
}

/*
 * The valid convolution below, with its output pixels placed anywhere: output pixel (b, p, q) starts at
 * out + b*o_img + p*o_row + q*o_px (in floats). Dense output is o_px = co, o_row = ow*co, o_img = oh*ow*co.
 */
static void conv_valid(const float *x, const float *w, float *out, int n, int h, int wd, int ci, int oh, int ow, int co,
                       int kh, int kw, int sh, int sw, long o_img, long o_row, int o_px, const float *bias, int act) {
  long x_row = (long)wd * ci, w_row = (long)kw * ci * co;
  for (int b = 0; b < n; b++) {
    for (int p = 0; p < oh; p++) {
      const float *xrow = x + ((long)b * h + (long)p * sh) * x_row;
      float *orow = out + b * o_img + p * o_row;
      for (int q0 = 0; q0 < ow; q0 += 4) {
        int np = min_i(4, ow - q0);
        for (int o0 = 0; o0 < co; o0 += 8) {
          int valid = min_i(8, co - o0);
          conv_tile_any(xrow + (long)q0 * sw * ci, x_row, sw * ci, w + o0, w_row, co, kh, kw * ci,
                        orow + (long)q0 * o_px + o0, o_px, np, (valid + 3) / 4, valid, act ? bias + o0 : bias, act);
        }
      }
    }
  }
}

/*
 * Conv2D, NHWC, "valid" on an input the caller has already padded: out[b][p][q][o] =
 * act(sum_{i,j,c} x[b][p*sh+i][q*sw+j][c] * w[i][j][c][o] + bias[o]), with act and bias as in epilogue() (act 0,
 * the plain convolution, when the caller leaves them out). out is overwritten. Nothing past w, bias or x is read.
 */
EXPORT(conv2d_forward)
void conv2d_forward(const float *x, const float *w, float *out, int n, int h, int wd, int ci, int oh, int ow, int co,
                    int kh, int kw, int sh, int sw, const float *bias, int act) {
  conv_valid(x, w, out, n, h, wd, ci, oh, ow, co, kh, kw, sh, sw, (long)oh * ow * co, (long)ow * co, co, bias, act);
}

/*
 * The matrix product c[rows, n] = act(a[rows, k] . b[k, n] + bias) (conv2d_forward as a 1x1 convolution) summed
 * kb values of k at a time: every register tile of rows runs through one block of b before the next block, so a
 * b too big for the cache is read from memory once, not once per 4 rows. Each block continues the sums where
 * the last stopped (EPI_LOAD), so the same operations in the same order as one pass over k.
 */
EXPORT(gemm_k_blocked)
void gemm_k_blocked(const float *a, const float *b, float *c, int rows, int k, int n, int kb, const float *bias, int act) {
  for (int k0 = 0; k0 < k; k0 += kb) {
    int len = min_i(kb, k - k0), last = k0 + len >= k;
    int block_act = (k0 > 0 ? EPI_LOAD : 0) | (last ? act : 0);
    conv_valid(a + k0, b + (long)k0 * n, c, 1, 1, rows, 1, 1, rows, n, 1, len, 1, k, (long)rows * n, (long)rows * n, n,
               last ? bias : 0, block_act);
  }
}

/*
 * conv2d_forward writing pixel (b, p, q) at out + b*o_img + p*o_row + q*o_px: one phase of a strided
 * convolution's input gradient goes straight to its interleaved place in dx (see conv-grads.ts).
 */
EXPORT(conv2d_forward_into)
void conv2d_forward_into(const float *x, const float *w, float *out, int n, int h, int wd, int ci, int oh, int ow,
                         int co, int kh, int kw, int o_img, int o_row, int o_px) {
  conv_valid(x, w, out, n, h, wd, ci, oh, ow, co, kh, kw, 1, 1, o_img, o_row, o_px, 0, 0);
}

/*
 * In place y[r][c] = act(y[r][c] + bias[c]) over [rows, cols], the bias and activation of a convolution trained
 * as one kernel (see fused-conv.ts): with_bias 0 skips the bias, relu 1 applies max(v, 0) (relu(NaN) = NaN and
 * relu(-0) = +0, as tfjs's wasm Relu), relu 0 none. The same numbers as the separate Add and Relu kernels.
 */
INLINE void bias_act_op(float *y, const float *bias, int rows, int cols, int with_bias, int relu) {
  const v128_t zero = wasm_f32x4_splat(0);
  for (int i = 0; i < rows; i++) {
    float *r = y + (long)i * cols;
    int j = 0;
    for (; j + 4 <= cols; j += 4) {
      v128_t v = wasm_v128_load(r + j);
      if (with_bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + j));
      if (relu) v = wasm_f32x4_max(v, zero);
      wasm_v128_store(r + j, v);
    }
    for (; j < cols; j++) {
      float v = with_bias ? r[j] + bias[j] : r[j];
      r[j] = relu ? (v > 0 || v != v ? v : 0.0f) : v;
    }
  }
}

EXPORT(bias_act_rows)
void bias_act_rows(float *y, const float *bias, int rows, int cols, int with_bias, int relu) {
  if (with_bias && relu) bias_act_op(y, bias, rows, cols, 1, 1);
  else if (with_bias) bias_act_op(y, bias, rows, cols, 1, 0);
  else if (relu) bias_act_op(y, bias, rows, cols, 0, 1);
}

/*
 * Inverted-dropout multipliers from the mulberry32 generator (lib/random.ts), the same numbers as dropoutMask in
 * lib/seeded-dropout.ts: draw i uses the generator's state after i + 1 steps, state0 + (i + 1) * 0x6d2b79f5, so
 * any range of entries (from `first`, `count` of them) can be made on its own, four at a time. An entry is 0
 * where draw / 2^32 < rate, else kept; the caller passes thr = ceil(rate * 2^32), so that draw < thr is the same
 * test, and drop_all = 1 when thr is 2^32. kept_bits holds the float's bits (the helper thread passes integers).
 */
EXPORT(dropout_mask)
void dropout_mask(float *out, int first, int count, int state0, int thr, int drop_all, int kept_bits) {
  const uint32_t step = 0x6d2b79f5u;
  const v128_t kept = wasm_i32x4_splat(kept_bits), zero = wasm_i32x4_splat(0);
  const v128_t limit = wasm_i32x4_splat(thr), one = wasm_i32x4_splat(1), sixty_one = wasm_i32x4_splat(61);
  uint32_t s0 = (uint32_t)state0 + ((uint32_t)first + 1u) * step;
  v128_t st = wasm_i32x4_make((int)s0, (int)(s0 + step), (int)(s0 + 2u * step), (int)(s0 + 3u * step));
  const v128_t advance = wasm_i32x4_splat((int)(4u * step));
  int i = 0;
  for (; i + 4 <= count; i += 4, st = wasm_i32x4_add(st, advance)) {
    v128_t t = wasm_i32x4_mul(wasm_v128_xor(st, wasm_u32x4_shr(st, 15)), wasm_v128_or(st, one));
    t = wasm_v128_xor(t, wasm_i32x4_add(t, wasm_i32x4_mul(wasm_v128_xor(t, wasm_u32x4_shr(t, 7)), wasm_v128_or(t, sixty_one))));
    v128_t draw = wasm_v128_xor(t, wasm_u32x4_shr(t, 14));
    v128_t dropped = drop_all ? wasm_i32x4_splat(-1) : wasm_u32x4_lt(draw, limit);
    wasm_v128_store(out + i, wasm_v128_bitselect(zero, kept, dropped));
  }
  float kept_f;
  __builtin_memcpy(&kept_f, &kept_bits, 4);
  for (uint32_t s = s0 + (uint32_t)i * step; i < count; i++, s += step) {
    uint32_t t = (s ^ (s >> 15)) * (s | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    uint32_t draw = t ^ (t >> 14);
    out[i] = drop_all || draw < (uint32_t)thr ? 0.0f : kept_f;
  }
}

/*
 * ReLU (six = 0) or ReLU6 (six = 1), out = the activation of x, the stock kernels' numbers: ReLU keeps NaN and
 * turns -0 into 0; ReLU6 is max(0, min(x, 6)) with NaN giving 0, as XNNPACK's clamp does.
 */
EXPORT(relu_into)
void relu_into(const float *x, float *out, int size, int six) {
  const v128_t zero = wasm_f32x4_splat(0), top = wasm_f32x4_splat(6);
  int i = 0;
  if (six) {
    for (; i + 4 <= size; i += 4) wasm_v128_store(out + i, wasm_f32x4_pmin(top, wasm_f32x4_pmax(zero, wasm_v128_load(x + i))));
    for (; i < size; i++) {
      float v = 0 < x[i] ? x[i] : 0.0f;
      out[i] = v < 6 ? v : 6.0f;
    }
  } else {
    for (; i + 4 <= size; i += 4) {
      v128_t v = wasm_v128_load(x + i);
      wasm_v128_store(out + i, wasm_v128_bitselect(v, zero, wasm_v128_or(wasm_f32x4_gt(v, zero), wasm_f32x4_ne(v, v))));
    }
    for (; i < size; i++) out[i] = x[i] > 0 || x[i] != x[i] ? x[i] : 0.0f;
  }
}

EXPORT(relu_grad)
void relu_grad(const float *dy, const float *x, float *out, int size) {
  int i = 0;
  for (; i + 4 <= size; i += 4) wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(dy + i), relu_step4(wasm_v128_load(x + i))));
  for (; i < size; i++) out[i] = dy[i] * relu_step(x[i]);
}

/*
 * relu_grad over [rows, cols] (cols at most SUM_COLS) and, in the same pass, sums[c] = the sum of out's column c,
 * row after row (the numbers of relu_grad, then sum_rows over out): a conv layer's ReLU and bias gradients.
 */
EXPORT(relu_grad_sum)
void relu_grad_sum(const float *dy, const float *x, float *out, float *sums, int rows, int cols) {
  float acc[SUM_COLS];
  const int vec = cols & ~3;
  for (int j = 0; j < cols; j++) acc[j] = 0;
  for (int i = 0; i < rows; i++) {
    const long r = (long)i * cols;
    for (int j = 0; j < vec; j += 4) {
      v128_t g = wasm_f32x4_mul(wasm_v128_load(dy + r + j), relu_step4(wasm_v128_load(x + r + j)));
      wasm_v128_store(out + r + j, g);
      wasm_v128_store(acc + j, wasm_f32x4_add(wasm_v128_load(acc + j), g));
    }
    for (int j = vec; j < cols; j++) {
      out[r + j] = dy[r + j] * relu_step(x[r + j]);
      acc[j] += out[r + j];
    }
  }
  for (int j = 0; j < cols; j++) sums[j] = acc[j];
}

/*
 * Most of FusedBatchNorm's gradient in one pass over [rows, cols] (cols = channels, at most SUM_COLS):
 * dx = dy * k[c] (k = gamma / sqrt(variance + eps)), and per channel sums[c] = sum dy, sums[cols + c] =
 * sum dy * (x - mean[c]), from which the caller derives the offset, scale, mean and variance gradients.
 * coef holds mean then k (2 x cols); sums is overwritten. With write_dx 0 only the sums (the same numbers).
 */
INLINE void batch_norm_grad_pass(const float *dy, const float *x, const float *coef, float *dx, float *sums, int rows,
                                 int cols, int write_dx) {
  float s0[SUM_COLS], s1[SUM_COLS];
  const float *mean = coef, *k = coef + cols;
  int vec = cols & ~3;
  for (int j = 0; j < cols; j++) s0[j] = s1[j] = 0;
  for (int i = 0; i < rows; i++) {
    const float *g = dy + (long)i * cols, *xr = x + (long)i * cols;
    float *o = dx + (long)i * cols;
    for (int j = 0; j < vec; j += 4) {
      v128_t gv = wasm_v128_load(g + j);
      v128_t centred = wasm_f32x4_sub(wasm_v128_load(xr + j), wasm_v128_load(mean + j));
      if (write_dx) wasm_v128_store(o + j, wasm_f32x4_mul(gv, wasm_v128_load(k + j)));
      wasm_v128_store(s0 + j, wasm_f32x4_add(wasm_v128_load(s0 + j), gv));
      wasm_v128_store(s1 + j, wasm_f32x4_add(wasm_v128_load(s1 + j), wasm_f32x4_mul(gv, centred)));
    }
    for (int j = vec; j < cols; j++) {
      if (write_dx) o[j] = g[j] * k[j];
      s0[j] += g[j];
      s1[j] += g[j] * (xr[j] - mean[j]);
    }
  }
  for (int j = 0; j < cols; j++) {
    sums[j] = s0[j];
    sums[cols + j] = s1[j];
  }
}

EXPORT(batch_norm_grad)
void batch_norm_grad(const float *dy, const float *x, const float *coef, float *dx, float *sums, int rows, int cols) {
  batch_norm_grad_pass(dy, x, coef, dx, sums, rows, cols, 1);
}

EXPORT(batch_norm_grad_sums)
void batch_norm_grad_sums(const float *dy, const float *x, const float *coef, float *sums, int rows, int cols) {
  batch_norm_grad_pass(dy, x, coef, 0, sums, rows, cols, 0);
}

/*
 * Batch normalization's whole input gradient while training on the batch's own statistics, in one pass over
 * [rows, cols]: dx = dy * k + (dmean/n + (dvar/n) * ((x - mean) * 2)), the two terms exactly as batch_norm_grad
 * and moments_grad compute them, added as tfjs adds the two paths' gradients. coef = [mean, k, dmean/n, dvar/n]
 * (4 x cols, prepared by the caller from batch_norm_grad_sums).
 */
EXPORT(batch_norm_train_dx)
void batch_norm_train_dx(const float *dy, const float *x, const float *coef, float *dx, int rows, int cols) {
  const float *mean = coef, *k = coef + cols, *dm = coef + 2 * cols, *dv = coef + 3 * cols;
  int vec = cols & ~3;
  v128_t two = wasm_f32x4_splat(2.0f);
  for (int i = 0; i < rows; i++) {
    const float *g = dy + (long)i * cols, *xr = x + (long)i * cols;
    float *o = dx + (long)i * cols;
    for (int j = 0; j < vec; j += 4) {
      v128_t direct = wasm_f32x4_mul(wasm_v128_load(g + j), wasm_v128_load(k + j));
      v128_t d = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + j), wasm_v128_load(mean + j)), two);
      v128_t viaStats = wasm_f32x4_add(wasm_v128_load(dm + j), wasm_f32x4_mul(wasm_v128_load(dv + j), d));
      wasm_v128_store(o + j, wasm_f32x4_add(direct, viaStats));
    }
    for (int j = vec; j < cols; j++) o[j] = g[j] * k[j] + (dm[j] + dv[j] * ((xr[j] - mean[j]) * 2.0f));
  }
}

/*
 * MaxPool, NHWC: y[b][p][q][ch] = the largest of x[b][p*sh + i - pt][q*sw + j - pl][ch] over the window's taps
 * inside the input, as tfjs's cpu backend finds it: starting from -infinity, a value replaces the best so far only
 * when greater (so NaN never wins, ties keep the first, and a window of only NaN gives -infinity). Sixteen
 * channels at a time, then four, then one.
 */
#define POOL_TAKE(m, v) wasm_v128_bitselect((v), (m), wasm_f32x4_gt((v), (m)))
EXPORT(max_pool_forward)
void max_pool_forward(const float *x, float *y, int n, int h, int wd, int c, int oh, int ow, int kh, int kw, int sh,
                      int sw, int pt, int pl) {
  const v128_t lowest = wasm_f32x4_splat(-__builtin_inff());
  for (int b = 0; b < n; b++) {
    const float *xb = x + (long)b * h * wd * c;
    for (int p = 0; p < oh; p++) {
      const int r0 = p * sh - pt, i0 = max_i(0, -r0), i1 = min_i(kh, h - r0);
      for (int q = 0; q < ow; q++) {
        const int c0 = q * sw - pl, j0 = max_i(0, -c0), j1 = min_i(kw, wd - c0);
        float *o = y + (((long)b * oh + p) * ow + q) * c;
        int ch = 0;
        for (; ch + 16 <= c; ch += 16) {
          v128_t m0 = lowest, m1 = lowest, m2 = lowest, m3 = lowest;
          for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) {
              const float *xp = xb + ((long)(r0 + i) * wd + (c0 + j)) * c + ch;
              m0 = POOL_TAKE(m0, wasm_v128_load(xp));
              m1 = POOL_TAKE(m1, wasm_v128_load(xp + 4));
              m2 = POOL_TAKE(m2, wasm_v128_load(xp + 8));
              m3 = POOL_TAKE(m3, wasm_v128_load(xp + 12));
            }
          }
          wasm_v128_store(o + ch, m0);
          wasm_v128_store(o + ch + 4, m1);
          wasm_v128_store(o + ch + 8, m2);
          wasm_v128_store(o + ch + 12, m3);
        }
        for (; ch + 4 <= c; ch += 4) {
          v128_t m = lowest;
          for (int i = i0; i < i1; i++)
            for (int j = j0; j < j1; j++) m = POOL_TAKE(m, wasm_v128_load(xb + ((long)(r0 + i) * wd + (c0 + j)) * c + ch));
          wasm_v128_store(o + ch, m);
        }
        for (; ch < c; ch++) {
          float m = -__builtin_inff();
          for (int i = i0; i < i1; i++)
            for (int j = j0; j < j1; j++) {
              float v = xb[((long)(r0 + i) * wd + (c0 + j)) * c + ch];
              if (v > m) m = v;
            }
          o[ch] = m;
        }
      }
    }
  }
}

/*
 * DepthwiseConv2dNative, NHWC, channel multiplier 1: y[b][p][q][ch] = the sum, over the taps (i, j) that fall
 * inside the input, of x[b][p*sh + i - pt][q*sw + j - pl][ch] * w[i][j][ch], taps in row-major order. Sixteen
 * channels at a time (four accumulators), then four, then one; nothing read past the channels.
 */
EXPORT(depthwise_forward)
void depthwise_forward(const float *x, const float *w, float *y, int n, int h, int wd, int c, int oh, int ow,
                       int kh, int kw, int sh, int sw, int pt, int pl) {
  for (int b = 0; b < n; b++) {
    const float *xb = x + (long)b * h * wd * c;
    for (int p = 0; p < oh; p++) {
      const int r0 = p * sh - pt, i0 = max_i(0, -r0), i1 = min_i(kh, h - r0);
      for (int q = 0; q < ow; q++) {
        const int c0 = q * sw - pl, j0 = max_i(0, -c0), j1 = min_i(kw, wd - c0);
        float *o = y + (((long)b * oh + p) * ow + q) * c;
        int ch = 0;
        for (; ch + 16 <= c; ch += 16) {
          v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
          for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) {
              const float *xp = xb + ((long)(r0 + i) * wd + (c0 + j)) * c + ch, *wp = w + (long)(i * kw + j) * c + ch;
              a0 = MADD(a0, wasm_v128_load(xp), wasm_v128_load(wp));
              a1 = MADD(a1, wasm_v128_load(xp + 4), wasm_v128_load(wp + 4));
              a2 = MADD(a2, wasm_v128_load(xp + 8), wasm_v128_load(wp + 8));
              a3 = MADD(a3, wasm_v128_load(xp + 12), wasm_v128_load(wp + 12));
            }
          }
          wasm_v128_store(o + ch, a0);
          wasm_v128_store(o + ch + 4, a1);
          wasm_v128_store(o + ch + 8, a2);
          wasm_v128_store(o + ch + 12, a3);
        }
        for (; ch + 4 <= c; ch += 4) {
          v128_t a = wasm_f32x4_splat(0);
          for (int i = i0; i < i1; i++)
            for (int j = j0; j < j1; j++)
              a = MADD(a, wasm_v128_load(xb + ((long)(r0 + i) * wd + (c0 + j)) * c + ch), wasm_v128_load(w + (long)(i * kw + j) * c + ch));
          wasm_v128_store(o + ch, a);
        }
        for (; ch < c; ch++) {
          float a = 0;
          for (int i = i0; i < i1; i++)
            for (int j = j0; j < j1; j++) a += xb[((long)(r0 + i) * wd + (c0 + j)) * c + ch] * w[(long)(i * kw + j) * c + ch];
          o[ch] = a;
        }
      }
    }
  }
}

/*
 * DepthwiseConv2dNativeBackpropInput, NHWC, channel multiplier 1: dx[b][r][col][ch] = sum over the taps (i, j)
 * and output positions (p, q) with p*sh + i - pt = r and q*sw + j - pl = col of dy[b][p][q][ch] * w[i][j][ch].
 * Scattered from each dy position, four channels at a time; dx is overwritten (cleared per image first).
 */
EXPORT(depthwise_backprop_input)
void depthwise_backprop_input(const float *dy, const float *w, float *dx, int n, int h, int wd, int c, int oh, int ow,
                              int kh, int kw, int sh, int sw, int pt, int pl) {
  const long image = (long)h * wd * c;
  for (int b = 0; b < n; b++) {
    float *dxb = dx + b * image;
    long z = 0;
    for (; z + 4 <= image; z += 4) wasm_v128_store(dxb + z, wasm_f32x4_splat(0));
    for (; z < image; z++) dxb[z] = 0;
    for (int p = 0; p < oh; p++) {
      for (int q = 0; q < ow; q++) {
        const float *g = dy + (((long)b * oh + p) * ow + q) * c;
        for (int i = 0; i < kh; i++) {
          int r = p * sh + i - pt;
          if (r < 0 || r >= h) continue;
          for (int j = 0; j < kw; j++) {
            int col = q * sw + j - pl;
            if (col < 0 || col >= wd) continue;
            float *d = dxb + ((long)r * wd + col) * c;
            const float *wt = w + (long)(i * kw + j) * c;
            int ch = 0;
            for (; ch + 4 <= c; ch += 4) {
              wasm_v128_store(d + ch, MADD(wasm_v128_load(d + ch), wasm_v128_load(g + ch), wasm_v128_load(wt + ch)));
            }
            for (; ch < c; ch++) d[ch] += g[ch] * wt[ch];
          }
        }
      }
    }
  }
}

/*
 * Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions: each 2x2 block of outputs costs 16 products per input and
 * output channel pair instead of 36. The three transforms below surround 16 independent matrix products
 * M[k] = V[k] (tiles x ci) * U[k] (ci x co), done by the convolution kernel as 1x1 convolutions (winograd_tiles).
 * Filter: U[k][c][o] = (G g G^T)[k] for g = w[.][.][c][o], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
 */
EXPORT(winograd_filter)
void winograd_filter(const float *w, float *u, int ci, int co) {
  long plane = (long)ci * co;
  for (long e = 0; e < plane; e++) {
    float g[9], t[12];
    for (int i = 0; i < 9; i++) g[i] = w[i * plane + e];
    for (int j = 0; j < 3; j++) { /* t = G g: 4 rows x 3 columns */
      t[0 * 3 + j] = g[0 * 3 + j];
      t[1 * 3 + j] = 0.5f * (g[0 * 3 + j] + g[1 * 3 + j] + g[2 * 3 + j]);
      t[2 * 3 + j] = 0.5f * (g[0 * 3 + j] - g[1 * 3 + j] + g[2 * 3 + j]);
      t[3 * 3 + j] = g[2 * 3 + j];
    }
    for (int i = 0; i < 4; i++) { /* (G g) G^T: 4 x 4 */
      const float *r = t + i * 3;
      u[(i * 4 + 0) * plane + e] = r[0];
      u[(i * 4 + 1) * plane + e] = 0.5f * (r[0] + r[1] + r[2]);
      u[(i * 4 + 2) * plane + e] = 0.5f * (r[0] - r[1] + r[2]);
      u[(i * 4 + 3) * plane + e] = r[2];
    }
  }
}

/* q = B^T p B for a 4x4 patch p of four channels, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
INLINE void wino_patch(const v128_t p[16], v128_t q[16]) {
  v128_t t[16];
  for (int j = 0; j < 4; j++) { /* rows: t = B^T p */
    t[0 * 4 + j] = wasm_f32x4_sub(p[0 * 4 + j], p[2 * 4 + j]);
    t[1 * 4 + j] = wasm_f32x4_add(p[1 * 4 + j], p[2 * 4 + j]);
    t[2 * 4 + j] = wasm_f32x4_sub(p[2 * 4 + j], p[1 * 4 + j]);
    t[3 * 4 + j] = wasm_f32x4_sub(p[1 * 4 + j], p[3 * 4 + j]);
  }
  for (int i = 0; i < 4; i++) { /* columns: (B^T p) B */
    q[i * 4 + 0] = wasm_f32x4_sub(t[i * 4 + 0], t[i * 4 + 2]);
    q[i * 4 + 1] = wasm_f32x4_add(t[i * 4 + 1], t[i * 4 + 2]);
    q[i * 4 + 2] = wasm_f32x4_sub(t[i * 4 + 2], t[i * 4 + 1]);
    q[i * 4 + 3] = wasm_f32x4_sub(t[i * 4 + 1], t[i * 4 + 3]);
  }
}

/*
 * Input: for each 4x4 patch at (2*ty, 2*tx) of each image (tile index t = (b*th + ty)*tw + tx), per channel,
 * V[k][t][c] = (B^T d B)[k], B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. The input must hold every patch:
 * h >= 2*th + 2 and w >= 2*tw + 2 (the caller pads). Tiles t0 .. t0+count-1 of the batch, tile t written at
 * v + (t - t0)*ci + k*plane; four channels at a time.
 */
static void wino_input(const float *x, float *v, long plane, int h, int w, int ci, int th, int tw, int t0, int count) {
  for (int t = t0; t < t0 + count; t++) {
    int b = t / (th * tw), rest = t % (th * tw), ty = rest / tw, tx = rest % tw;
    const float *d = x + (((long)b * h + 2 * ty) * w + 2 * tx) * ci;
    float *out = v + (long)(t - t0) * ci;
    for (int c = 0; c < ci; c += 4) {
      v128_t p[16], q[16];
      int n = min_i(4, ci - c);
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) p[i * 4 + j] = load_lanes(d + ((long)i * w + j) * ci + c, n);
      wino_patch(p, q);
      for (int k = 0; k < 16; k++) store_lanes(out + (long)k * plane + c, q[k], n);
    }
  }
}

/*
 * Output: y 2x2 block of tile t = A^T M A with A^T = [1 1 1 0; 0 1 -1 -1], written where it lies inside the
 * [oh, ow] output (odd sizes drop the last row or column), after the bias and activation of epilogue(). Tiles
 * t0 .. t0+count-1, tile t's products read from m + (t - t0)*co + k*plane.
 */
static void wino_output(const float *m, long plane, float *y, int oh, int ow, int co, int th, int tw, int t0, int count,
                        const float *bias, int act) {
  for (int t = t0; t < t0 + count; t++) {
    int b = t / (th * tw), rest = t % (th * tw), ty = rest / tw, tx = rest % tw;
    const float *src = m + (long)(t - t0) * co;
    for (int c = 0; c < co; c += 4) {
      int n = min_i(4, co - c);
      v128_t p[16], q[8];
      for (int k = 0; k < 16; k++) p[k] = load_lanes(src + k * plane + c, n);
      for (int j = 0; j < 4; j++) { /* rows: q = A^T p (2 x 4) */
        q[0 * 4 + j] = wasm_f32x4_add(wasm_f32x4_add(p[0 * 4 + j], p[1 * 4 + j]), p[2 * 4 + j]);
        q[1 * 4 + j] = wasm_f32x4_sub(wasm_f32x4_sub(p[1 * 4 + j], p[2 * 4 + j]), p[3 * 4 + j]);
      }
      for (int i = 0; i < 2; i++) {
        int r = 2 * ty + i;
        if (r >= oh) break;
        v128_t out2[2];
        out2[0] = wasm_f32x4_add(wasm_f32x4_add(q[i * 4 + 0], q[i * 4 + 1]), q[i * 4 + 2]);
        out2[1] = wasm_f32x4_sub(wasm_f32x4_sub(q[i * 4 + 1], q[i * 4 + 2]), q[i * 4 + 3]);
        if (act) {
          out2[0] = epilogue(out2[0], bias + c, n, act);
          out2[1] = epilogue(out2[1], bias + c, n, act);
        }
        for (int j = 0; j < 2; j++) {
          int col = 2 * tx + j;
          if (col >= ow) break;
          store_lanes(y + (((long)b * oh + r) * ow + col) * co + c, out2[j], n);
        }
      }
    }
  }
}

/*
 * The whole Winograd convolution of tiles t0 .. t0+count-1, `block` tiles at a time: input transform, the 16
 * products and output transform of one block run while its transformed tiles are still in cache, instead of
 * each step streaming [16][tiles][channels] buffers of the whole batch through memory. scratch holds
 * 16*block*(ci + co) floats (V, then M, of one block).
 * bias and act as in conv2d_forward.
 */
EXPORT(winograd_tiles)
void winograd_tiles(const float *x, const float *u, float *scratch, float *y, int h, int w, int ci, int oh, int ow,
                    int co, int th, int tw, int t0, int count, int block, const float *bias, int act) {
  float *v = scratch, *m = scratch + 16L * block * ci;
  for (int b0 = t0; b0 < t0 + count; b0 += block) {
    int n = min_i(block, t0 + count - b0);
    wino_input(x, v, (long)n * ci, h, w, ci, th, tw, b0, n);
    for (int k = 0; k < 16; k++)
      conv_valid(v + (long)k * n * ci, u + (long)k * ci * co, m + (long)k * n * co, 1, 1, n, ci, 1, n, co, 1, 1, 1, 1,
                 (long)n * co, (long)n * co, co, 0, 0);
    wino_output(m, (long)n * co, y, oh, ow, co, th, tw, b0, n, bias, act);
  }
}

/*
 * Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions (forward, and the input gradient, which is one): each 4x4
 * block of outputs costs 36 products per input and output channel pair instead of 144. The three transforms
 * below surround 36 independent matrix products M[k] = V[k] (tiles x ci) * U[k] (ci x co), done by the
 * convolution kernel as 1x1 convolutions (winograd4_tiles), with the interpolation points 0, 1, -1, 2, -2:
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
 *   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1],
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
 * Against F(2x2, 3x3) (above) the rounding error grows about tenfold, to about 1e-6 of the largest output; the
 * caller takes whichever of the two needs fewer products for the output's size (2x2 maps: F(2x2, 3x3)).
 */

/* r[0..5 step rs] = G g for g[0..2 step s]: one column or row of a filter's transform. */
INLINE void wino4_g(const float *g, int s, float *r, int rs) {
  float g0 = g[0], g1 = g[s], g2 = g[2 * s];
  r[0] = g0 / 4;
  r[rs] = -(g0 + g1 + g2) / 6;
  r[2 * rs] = -(g0 - g1 + g2) / 6;
  r[3 * rs] = (g0 + 2 * g1 + 4 * g2) / 24;
  r[4 * rs] = (g0 - 2 * g1 + 4 * g2) / 24;
  r[5 * rs] = g2;
}

/* Filter: U[k][c][o] = (G g G^T)[k] (6x6, k = 6*row + column) for g = w[.][.][c][o]. */
EXPORT(winograd4_filter)
void winograd4_filter(const float *w, float *u, int ci, int co) {
  long plane = (long)ci * co;
  for (long e = 0; e < plane; e++) {
    float g[9], t[18], r[36];
    for (int i = 0; i < 9; i++) g[i] = w[i * plane + e];
    for (int j = 0; j < 3; j++) wino4_g(g + j, 3, t + j, 3); /* t = G g: 6 x 3 */
    for (int i = 0; i < 6; i++) wino4_g(t + i * 3, 1, r + i * 6, 1); /* (G g) G^T: 6 x 6 */
    for (int k = 0; k < 36; k++) u[k * plane + e] = r[k];
  }
}

/* r[0..5 step rs] = B^T d for d[0..5 step s], four channels at a time. */
INLINE void wino4_bt(const v128_t *d, int s, v128_t *r, int rs) {
  v128_t two = wasm_f32x4_splat(2), four = wasm_f32x4_splat(4), five = wasm_f32x4_splat(5);
  v128_t d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s];
  r[0] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(four, d0), wasm_f32x4_mul(five, d2)), d4);
  r[rs] = wasm_f32x4_sub(wasm_f32x4_add(d3, d4), wasm_f32x4_mul(four, wasm_f32x4_add(d1, d2)));
  r[2 * rs] = wasm_f32x4_add(wasm_f32x4_sub(d4, d3), wasm_f32x4_mul(four, wasm_f32x4_sub(d1, d2)));
  r[3 * rs] = wasm_f32x4_add(wasm_f32x4_sub(d4, d2), wasm_f32x4_mul(two, wasm_f32x4_sub(d3, d1)));
  r[4 * rs] = wasm_f32x4_sub(wasm_f32x4_sub(d4, d2), wasm_f32x4_mul(two, wasm_f32x4_sub(d3, d1)));
  r[5 * rs] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(four, d1), wasm_f32x4_mul(five, d3)), d5);
}

/* r[0..3 step rs] = A^T m for m[0..5 step s], four channels at a time. */
INLINE void wino4_at(const v128_t *m, int s, v128_t *r, int rs) {
  v128_t sum12 = wasm_f32x4_add(m[s], m[2 * s]), dif12 = wasm_f32x4_sub(m[s], m[2 * s]);
  v128_t sum34 = wasm_f32x4_add(m[3 * s], m[4 * s]), dif34 = wasm_f32x4_sub(m[3 * s], m[4 * s]);
  r[0] = wasm_f32x4_add(wasm_f32x4_add(m[0], sum12), sum34);
  r[rs] = wasm_f32x4_add(dif12, wasm_f32x4_mul(wasm_f32x4_splat(2), dif34));
  r[2 * rs] = wasm_f32x4_add(sum12, wasm_f32x4_mul(wasm_f32x4_splat(4), sum34));
  r[3 * rs] = wasm_f32x4_add(wasm_f32x4_add(dif12, wasm_f32x4_mul(wasm_f32x4_splat(8), dif34)), m[5 * s]);
}

/*
 * Input: for each 6x6 patch at (4*ty, 4*tx) of each image (tile index t = (b*th + ty)*tw + tx), per channel,
 * V[k][t][c] = (B^T d B)[k]. The input must hold every patch: h >= 4*th + 2 and w >= 4*tw + 2 (the caller
 * pads). Tiles t0 .. t0+count-1 of the batch, tile t written at v + (t - t0)*ci + k*plane; four channels at a time.
 */
static void wino4_input(const float *x, float *v, long plane, int h, int w, int ci, int th, int tw, int t0, int count) {
  for (int t = t0; t < t0 + count; t++) {
    int b = t / (th * tw), rest = t % (th * tw), ty = rest / tw, tx = rest % tw;
    const float *d = x + (((long)b * h + 4 * ty) * w + 4 * tx) * ci;
    float *out = v + (long)(t - t0) * ci;
    for (int c = 0; c < ci; c += 4) {
      v128_t p[36], q[36], r[36];
      int n = min_i(4, ci - c);
      for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) p[i * 6 + j] = load_lanes(d + ((long)i * w + j) * ci + c, n);
      for (int j = 0; j < 6; j++) wino4_bt(p + j, 6, q + j, 6);         /* columns: q = B^T p */
      for (int i = 0; i < 6; i++) wino4_bt(q + i * 6, 1, r + i * 6, 1); /* rows: (B^T p) B */
      for (int k = 0; k < 36; k++) store_lanes(out + (long)k * plane + c, r[k], n);
    }
  }
}

/*
 * Output: y 4x4 block of tile t = A^T M A, written where it lies inside the [oh, ow] output (sizes that are not
 * a multiple of 4 drop the block's last rows or columns), after the bias and activation of epilogue(). Tiles
 * t0 .. t0+count-1, tile t's products read from m + (t - t0)*co + k*plane.
 */
static void wino4_output(const float *m, long plane, float *y, int oh, int ow, int co, int th, int tw, int t0, int count,
                        const float *bias, int act) {
  for (int t = t0; t < t0 + count; t++) {
    int b = t / (th * tw), rest = t % (th * tw), ty = rest / tw, tx = rest % tw;
    const float *src = m + (long)(t - t0) * co;
    for (int c = 0; c < co; c += 4) {
      int n = min_i(4, co - c);
      v128_t p[36], q[24], out4[4];
      for (int k = 0; k < 36; k++) p[k] = load_lanes(src + k * plane + c, n);
      for (int j = 0; j < 6; j++) wino4_at(p + j, 6, q + j, 6); /* columns: q = A^T p (4 x 6) */
      for (int i = 0; i < 4; i++) {
        int r = 4 * ty + i;
        if (r >= oh) break;
        wino4_at(q + i * 6, 1, out4, 1); /* row i of (A^T p) A */
        for (int j = 0; j < 4; j++) {
          int col = 4 * tx + j;
          if (col >= ow) break;
          v128_t o = act ? epilogue(out4[j], bias + c, n, act) : out4[j];
          store_lanes(y + (((long)b * oh + r) * ow + col) * co + c, o, n);
        }
      }
    }
  }
}

/*
 * The whole Winograd convolution of tiles t0 .. t0+count-1, `block` tiles at a time: input transform, the 36
 * products and output transform of one block run while its transformed tiles are still in cache, instead of
 * each step streaming [36][tiles][channels] buffers of the whole batch through memory. scratch holds
 * 36*block*(ci + co) floats (V, then M, of one block). bias and act as in conv2d_forward.
 */
EXPORT(winograd4_tiles)
void winograd4_tiles(const float *x, const float *u, float *scratch, float *y, int h, int w, int ci, int oh, int ow,
                    int co, int th, int tw, int t0, int count, int block, const float *bias, int act) {
  float *v = scratch, *m = scratch + 36L * block * ci;
  for (int b0 = t0; b0 < t0 + count; b0 += block) {
    int n = min_i(block, t0 + count - b0);
    wino4_input(x, v, (long)n * ci, h, w, ci, th, tw, b0, n);
    for (int k = 0; k < 36; k++)
      conv_valid(v + (long)k * n * ci, u + (long)k * ci * co, m + (long)k * n * co, 1, 1, n, ci, 1, n, co, 1, 1, 1, 1,
                 (long)n * co, (long)n * co, co, 0, 0);
    wino4_output(m, (long)n * co, y, oh, ow, co, th, tw, b0, n, bias, act);
  }
}

/*
 * Winograd F(3x3, 2x2) for the filter gradient of a 3x3 stride-1 convolution: each 2x2 block of dy and the 4x4
 * patch of x under it contribute dW = A^T [(G g G^T) (.) (B^T d B)] A, so the sum over all blocks is taken in the
 * transformed domain, M[k][ci][co] = sum over tiles of V[k][tile][ci] * U[k][tile][co] (16 sums, by dw_tile), and
 * transformed back once: 16 products per tile and channel pair instead of 36. Here B^T is F(2x2, 3x3)'s
 * (wino_patch), G = [1 0; 1/2 1/2; 1/2 -1/2; 0 -1] and A^T = [1 1 1 0; 0 1 -1 0; 0 1 1 1] (the usual
 * F(3x3, 2x2) negates the last rows of both B^T and G instead; the two signs cancel).
 * Tile t = (b*th + ty)*tw + tx covers dy rows 2ty, 2ty+1 and columns 2tx, 2tx+1 (zero beyond oh, ow) and x rows
 * 2ty - pt .. 2ty - pt + 3, columns 2tx - pl .. + 3 (zero outside the image).
 */
static void wgrad_input(const float *x, float *v, long plane, int h, int w, int ci, int b, int r0, int c0) {
  for (int c = 0; c < ci; c += 4) {
    int n = min_i(4, ci - c);
    v128_t p[16], q[16];
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) {
        int r = r0 + i, col = c0 + j;
        if (r < 0 || r >= h || col < 0 || col >= w) {
          p[i * 4 + j] = wasm_f32x4_splat(0);
          continue;
        }
        p[i * 4 + j] = load_lanes(x + (((long)b * h + r) * w + col) * ci + c, n);
      }
    wino_patch(p, q);
    for (int k = 0; k < 16; k++) store_lanes(v + (long)k * plane + c, q[k], n);
  }
}

static void wgrad_dy(const float *dy, float *u, long plane, int oh, int ow, int co, int b, int r0, int c0) {
  v128_t half = wasm_f32x4_splat(0.5f);
  for (int c = 0; c < co; c += 4) {
    int n = min_i(4, co - c);
    v128_t g[4], t[8];
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++) {
        int r = r0 + i, col = c0 + j;
        if (r >= oh || col >= ow) {
          g[i * 2 + j] = wasm_f32x4_splat(0);
          continue;
        }
        g[i * 2 + j] = load_lanes(dy + (((long)b * oh + r) * ow + col) * co + c, n);
      }
    for (int j = 0; j < 2; j++) { /* rows: t = G g (4 x 2) */
      t[0 * 2 + j] = g[0 * 2 + j];
      t[1 * 2 + j] = wasm_f32x4_mul(half, wasm_f32x4_add(g[0 * 2 + j], g[1 * 2 + j]));
      t[2 * 2 + j] = wasm_f32x4_mul(half, wasm_f32x4_sub(g[0 * 2 + j], g[1 * 2 + j]));
      t[3 * 2 + j] = wasm_f32x4_neg(g[1 * 2 + j]);
    }
    for (int i = 0; i < 4; i++) { /* columns: (G g) G^T (4 x 4) */
      v128_t r[4];
      r[0] = t[i * 2 + 0];
      r[1] = wasm_f32x4_mul(half, wasm_f32x4_add(t[i * 2 + 0], t[i * 2 + 1]));
      r[2] = wasm_f32x4_mul(half, wasm_f32x4_sub(t[i * 2 + 0], t[i * 2 + 1]));
      r[3] = wasm_f32x4_neg(t[i * 2 + 1]);
      for (int j = 0; j < 4; j++) store_lanes(u + (long)(i * 4 + j) * plane + c, r[j], n);
    }
  }
}

/*
 * Adds the transformed sums M[16][ci][co] of tiles t0 .. t0+count-1 into m, `block` tiles at a time (the block's
 * V and U stay in cache for their 16 sums). scratch holds 16*block*(ci + co) floats (V, then U).
 */
EXPORT(winograd_filter_grad_tiles)
void winograd_filter_grad_tiles(const float *x, const float *dy, float *scratch, float *m, int h, int w, int ci,
                                int oh, int ow, int co, int th, int tw, int pt, int pl, int t0, int count, int block) {
  float *v = scratch, *u = scratch + 16L * block * ci;
  for (int b0 = t0; b0 < t0 + count; b0 += block) {
    int n = min_i(block, t0 + count - b0);
    for (int t = b0; t < b0 + n; t++) {
      int b = t / (th * tw), rest = t % (th * tw), ty = rest / tw, tx = rest % tw;
      wgrad_input(x, v + (long)(t - b0) * ci, (long)n * ci, h, w, ci, b, 2 * ty - pt, 2 * tx - pl);
      wgrad_dy(dy, u + (long)(t - b0) * co, (long)n * co, oh, ow, co, b, 2 * ty, 2 * tx);
    }
    for (int k = 0; k < 16; k++) {
      const float *vk = v + (long)k * n * ci, *uk = u + (long)k * n * co;
      float *mk = m + (long)k * ci * co;
      for (int c0 = 0; c0 < ci; c0 += TILE_CI) {
        int nci = min_i(TILE_CI, ci - c0);
        for (int o0 = 0; o0 < co; o0 += 4 * TILE_V) {
          int valid = min_i(4 * TILE_V, co - o0);
          dw_tile_any(vk + c0, 0, ci, uk + o0, 0, co, 1, n, 1, 0, 0, mk + (long)c0 * co + o0, co, nci, (valid + 3) / 4,
                      valid);
        }
      }
    }
  }
}

/* dw[i][j][c][o] = (A^T M A)[i][j] for M[16][ci][co]: the 3x3 filter gradient from the transformed sums. */
EXPORT(winograd_filter_grad_output)
void winograd_filter_grad_output(const float *m, float *dw, int ci, int co) {
  long plane = (long)ci * co;
  for (long e = 0; e < plane; e++) {
    float p[16], q[12];
    for (int k = 0; k < 16; k++) p[k] = m[k * plane + e];
    for (int j = 0; j < 4; j++) { /* rows: q = A^T p (3 x 4) */
      q[0 * 4 + j] = p[0 * 4 + j] + p[1 * 4 + j] + p[2 * 4 + j];
      q[1 * 4 + j] = p[1 * 4 + j] - p[2 * 4 + j];
      q[2 * 4 + j] = p[1 * 4 + j] + p[2 * 4 + j] + p[3 * 4 + j];
    }
    for (int i = 0; i < 3; i++) { /* columns: (A^T p) A (3 x 3) */
      const float *r = q + i * 4;
      dw[(i * 3 + 0) * plane + e] = r[0] + r[1] + r[2];
      dw[(i * 3 + 1) * plane + e] = r[1] - r[2];
      dw[(i * 3 + 2) * plane + e] = r[1] + r[2] + r[3];
    }
  }
}
