/*
 * AST Lab's fused elementwise kernels for the wasm backend (loaded through Deno FFI by
 * fused_library.ts, which compiles this file on first use with the system C compiler).
 *
 * Why: a hidden-64 teacher step spends ~30% of its time in full-size elementwise passes
 * (atan, exp, multiply, add, split, concat, gather, clip), each a separate scalar wasm kernel;
 * a student step ~12% in BatchNorm + LeakyReLU. Here each chain is one vectorised pass
 * (glibc's libmvec atanf / expf), parallel over pixels with OpenMP (the libgomp instance
 * oneDNN already runs).
 *
 * Layout: NHWC float32, P = B*H*W pixels; a channel range of a tensor is (pointer, stride =
 * its channel count, offset). Reductions over pixels accumulate in double, per thread in a
 * fixed split, combined in thread order: deterministic for a given thread count.
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The vector variants live in libmvec; glibc only declares them under -ffast-math, which this
 * file avoids (it would also flush denormals for the whole process). */
float atanf(float) __attribute__((simd("notinbranch")));
float expf(float) __attribute__((simd("notinbranch")));

typedef int64_t i64;

int ast_fused_version(void) { return 1; }

/*
 * Whether an elementwise pass over `work` values is worth a parallel region. Small maps (the demo
 * preset's 16x16 ones) take 0.2-0.45 ms per kernel in a parallel region on these 2-core hosts,
 * waking the other thread while oneDNN's and the wasm backend's threads are about, against
 * 10-50 us on the calling thread alone. Only passes whose every value is computed the same way
 * whatever the thread count take this: the reductions keep their fixed split.
 */
#define PARALLEL_MIN_WORK 65536
static inline int parallel_worth(i64 work) { return work >= PARALLEL_MIN_WORK; }

/* ---------------------------------------------------------------- affine coupling ---- */

/*
 * One half of the affine coupling, forward:
 *   l = k * atan(o[:, c]),  y[:, c] = exp(l) * x[:, c] + o[:, n + c],  ls = sum_c l
 * o: [P, 2n] (the subnet output: scale logits then shifts); x: channels [xo, xo + n) of a
 * [P, xs] tensor; y: channels [0, n) of a [P, ys] tensor; ls: [P].
 */
void ast_coupling_forward(i64 P, i64 n, const float *o, const float *x, i64 xs, i64 xo, float k,
                          float *y, i64 ys, float *ls) {
#pragma omp parallel for schedule(static) if (parallel : parallel_worth(P * n))
  for (i64 p = 0; p < P; p++) {
    const float *r = o + p * 2 * n, *t = r + n, *xp = x + p * xs + xo;
    float *yp = y + p * ys;
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (i64 c = 0; c < n; c++) {
      float l = k * atanf(r[c]);
      s += l;
      yp[c] = expf(l) * xp[c] + t[c];
    }
    ls[p] = s;
  }
}

/*
 * Its gradient: with e = exp(k * atan(r)),
 *   do[:, c] = (dy * x * e + dls) * k / (1 + r^2),  do[:, n + c] = dy,  dx = dy * e
 * dy: channels [0, n) of a [P, dys] tensor; dls: [P]. dx is the gradient of the whole x
 * tensor: channels [dxo, dxo + n) of [P, dxs], the others zero.
 */
void ast_coupling_backward(i64 P, i64 n, const float *o, const float *x, i64 xs, i64 xo, float k,
                           const float *dy, i64 dys, const float *dls, float *dout, float *dx,
                           i64 dxs, i64 dxo) {
#pragma omp parallel for schedule(static) if (parallel : parallel_worth(P * n))
  for (i64 p = 0; p < P; p++) {
    const float *r = o + p * 2 * n, *xp = x + p * xs + xo, *g = dy + p * dys;
    const float gl = dls[p];
    float *dr = dout + p * 2 * n, *dt = dr + n;
    float *row = dx + p * dxs, *dxp = row + dxo;
    memset(row, 0, dxo * sizeof(float));
    memset(dxp + n, 0, (dxs - dxo - n) * sizeof(float));
#pragma omp simd
    for (i64 c = 0; c < n; c++) {
      float rc = r[c];
      float e = expf(k * atanf(rc));
      dr[c] = (g[c] * xp[c] * e + gl) * k / (1.f + rc * rc);
      dt[c] = g[c];
      dxp[c] = g[c] * e;
    }
  }
}

/* ------------------------------------------------------------------ channel copies ---- */

/* out[:, oo + j] = src[:, idx[j]], j < n (a channel gather; idx NULL: src channel so + j) */
void ast_gather_channels(i64 P, i64 n, const float *src, i64 ss, i64 so, const int32_t *idx,
                         float *out, i64 os, i64 oo) {
#pragma omp parallel for schedule(static) if (parallel : parallel_worth(P * n))
  for (i64 p = 0; p < P; p++) {
    const float *sp = src + p * ss;
    float *op = out + p * os + oo;
    if (idx) {
      for (i64 j = 0; j < n; j++) op[j] = sp[idx[j]];
    } else {
      memcpy(op, sp + so, n * sizeof(float));
    }
  }
}

/* dst[:, idx[j]] = src[:, so + j], j < n (the gather's gradient: idx is injective) */
void ast_scatter_channels(i64 P, i64 n, const float *src, i64 ss, i64 so, const int32_t *idx,
                          float *dst, i64 ds) {
#pragma omp parallel for schedule(static) if (parallel : parallel_worth(P * n))
  for (i64 p = 0; p < P; p++) {
    const float *sp = src + p * ss + so;
    float *dp = dst + p * ds;
    for (i64 j = 0; j < n; j++) dp[idx[j]] = sp[j];
  }
}

/*
 * out[:, oo + c] = clip(src[:, so + c], lo, hi), c < n (clip keeps NaN, as tfjs' ClipByValue);
 * with dy given, the clip's gradient instead: out = dy[:, dyo + c] where lo <= src <= hi else 0,
 * and out's other channels zero (it is the gradient of the whole src tensor).
 */
void ast_copy_clip(i64 P, i64 n, const float *src, i64 ss, i64 so, const float *dy, i64 dys, i64 dyo,
                   float lo, float hi, float *out, i64 os, i64 oo) {
#pragma omp parallel for schedule(static) if (parallel : parallel_worth(P * n))
  for (i64 p = 0; p < P; p++) {
    const float *sp = src + p * ss + so;
    float *op = out + p * os + oo;
    if (dy) {
      const float *g = dy + p * dys + dyo;
      memset(op - oo, 0, oo * sizeof(float));
      memset(op + n, 0, (os - oo - n) * sizeof(float));
#pragma omp simd
      for (i64 c = 0; c < n; c++) op[c] = (sp[c] >= lo && sp[c] <= hi) ? g[c] : 0.f;
    } else {
#pragma omp simd
      for (i64 c = 0; c < n; c++) {
        float v = sp[c];
        op[c] = v < lo ? lo : (v > hi ? hi : v);
      }
    }
  }
}

/* ------------------------------------------------------ BatchNorm + LeakyReLU (train) ---- */

/* Per-thread double accumulators over a static pixel split, summed in thread order. */
static double *thread_sums(int threads, i64 width) { return calloc((size_t)threads * width, sizeof(double)); }

/* entry c of the per-thread rows (stride apart), summed in thread order */
static double thread_total(const double *acc, int threads, i64 stride, i64 c) {
  double s = 0;
  for (int t = 0; t < threads; t++) s += acc[t * stride + c];
  return s;
}

/* mean and biased variance per channel of x [P, C] (two passes: stable) */
int ast_channel_moments(i64 P, i64 C, const float *x, float *mean, float *var) {
  int T = omp_get_max_threads();
  double *acc = thread_sums(T, C);
  if (!acc) return 1;
#pragma omp parallel num_threads(T)
  {
    double *a = acc + (i64)omp_get_thread_num() * C;
#pragma omp for schedule(static)
    for (i64 p = 0; p < P; p++) {
      const float *xp = x + p * C;
#pragma omp simd
      for (i64 c = 0; c < C; c++) a[c] += xp[c];
    }
  }
  for (i64 c = 0; c < C; c++) mean[c] = (float)(thread_total(acc, T, C, c) / (double)P);
  memset(acc, 0, (size_t)T * C * sizeof(double));
#pragma omp parallel num_threads(T)
  {
    double *a = acc + (i64)omp_get_thread_num() * C;
#pragma omp for schedule(static)
    for (i64 p = 0; p < P; p++) {
      const float *xp = x + p * C;
#pragma omp simd
      for (i64 c = 0; c < C; c++) {
        double d = (double)xp[c] - (double)mean[c];
        a[c] += d * d;
      }
    }
  }
  for (i64 c = 0; c < C; c++) var[c] = (float)(thread_total(acc, T, C, c) / (double)P);
  free(acc);
  return 0;
}

/* y = leaky((x - mean) * invstd * w + b), leaky(u) = u > 0 ? u : slope * u */
void ast_bn_leaky_forward(i64 P, i64 C, const float *x, const float *mean, const float *invstd,
                          const float *w, const float *b, float slope, float *y) {
#pragma omp parallel for schedule(static) if (parallel : parallel_worth(P * C))
  for (i64 p = 0; p < P; p++) {
    const float *xp = x + p * C;
    float *yp = y + p * C;
#pragma omp simd
    for (i64 c = 0; c < C; c++) {
      float u = (xp[c] - mean[c]) * invstd[c] * w[c] + b[c];
      yp[c] = u > 0.f ? u : slope * u;
    }
  }
}

/*
 * The gradient of ast_bn_leaky_forward in training mode (batch statistics), from dy and the
 * forward output y (its sign is the pre-activation's: slope > 0). With g = dy * (y > 0 ? 1 : slope)
 * and xhat = (x - mean) * invstd:
 *   db = sum g,  dw = sum g * xhat,  dx = w * invstd * (g - db / P - xhat * dw / P)
 */
int ast_bn_leaky_backward(i64 P, i64 C, const float *x, const float *y, const float *dy,
                          const float *mean, const float *invstd, const float *w, float slope,
                          float *dx, float *dw, float *db) {
  int T = omp_get_max_threads();
  double *acc = thread_sums(T, 2 * C);
  if (!acc) return 1;
#pragma omp parallel num_threads(T)
  {
    double *sg = acc + (i64)omp_get_thread_num() * 2 * C, *sgx = sg + C;
#pragma omp for schedule(static)
    for (i64 p = 0; p < P; p++) {
      const float *xp = x + p * C, *yp = y + p * C, *gp = dy + p * C;
#pragma omp simd
      for (i64 c = 0; c < C; c++) {
        float g = yp[c] > 0.f ? gp[c] : slope * gp[c];
        sg[c] += g;
        sgx[c] += (double)g * ((xp[c] - mean[c]) * invstd[c]);
      }
    }
  }
  float *mb = malloc(2 * C * sizeof(float));
  if (!mb) {
    free(acc);
    return 1;
  }
  float *mg = mb, *mgx = mb + C; /* db / P and dw / P */
  for (i64 c = 0; c < C; c++) {
    double s = thread_total(acc, T, 2 * C, c), sx = thread_total(acc, T, 2 * C, C + c);
    db[c] = (float)s;
    dw[c] = (float)sx;
    mg[c] = (float)(s / (double)P);
    mgx[c] = (float)(sx / (double)P);
  }
  free(acc);
#pragma omp parallel for schedule(static) if (parallel : parallel_worth(P * C))
  for (i64 p = 0; p < P; p++) {
    const float *xp = x + p * C, *yp = y + p * C, *gp = dy + p * C;
    float *dp = dx + p * C;
#pragma omp simd
    for (i64 c = 0; c < C; c++) {
      float g = yp[c] > 0.f ? gp[c] : slope * gp[c];
      float xh = (xp[c] - mean[c]) * invstd[c];
      dp[c] = w[c] * invstd[c] * (g - mg[c] - xh * mgx[c]);
    }
  }
  free(mb);
  return 0;
}

/* ----------------------------------------------------------------------------- Adam ---- */

/*
 * One Adam step over n parameters (PyTorch's Adam with coupled weight decay), in double per
 * element as lib/backend/js/adam_loop.ts does:
 *   g' = g + wd p,  m' = b1 m + (1 - b1) g',  v' = b2 v + (1 - b2) g'^2,
 *   p' = p - step * m' / (sqrt(v') / bc2sqrt + eps)
 */
void ast_adam_step(i64 n, const float *p, const float *g, const float *m, const float *v, float *op,
                   float *om, float *ov, double step, double bc2sqrt, double b1, double b2,
                   double eps, double wd) {
  const double c1 = 1 - b1, c2 = 1 - b2;
#pragma omp parallel for simd schedule(static) if (parallel : parallel_worth(n))
  for (i64 i = 0; i < n; i++) {
    double pi = p[i];
    double gi = g[i] + wd * pi;
    double mi = b1 * m[i] + c1 * gi;
    double vi = b2 * v[i] + c2 * gi * gi;
    om[i] = (float)mi;
    ov[i] = (float)vi;
    op[i] = (float)(pi - step * (mi / (sqrt(vi) / bc2sqrt + eps)));
  }
}

/* ------------------------------------------------------- EfficientNet's elementwise ---- */

/*
 * y = x * sigmoid(x) = x / (1 + exp(-x)) (SiLU / swish). The exponent is clamped to [-80, 80]:
 * outside it libmvec's expf takes its scalar slow path (over- and underflow; measured 6-8 ns per
 * element on deep EfficientNet maps with large activations instead of 0.5), while y stays as
 * exact: y = x to the last bit above 80, and below -80 |y| < 2e-35 |x| (the exact value is
 * smaller still, x e^x). The clamp goes
 * through a small buffer: written as one expression, gcc turns expf(clamp(t)) into a select
 * between expf(t) and constants, i.e. evaluates expf on the unclamped value again.
 */
#define SWISH_BLOCK 512
/* swish of m <= SWISH_BLOCK values */
static inline void swish_block(i64 m, const float *x, float *y) {
  float t[SWISH_BLOCK];
#pragma omp simd
  for (i64 j = 0; j < m; j++) {
    float v = -x[j];
    t[j] = v > 80.f ? 80.f : (v < -80.f ? -80.f : v); /* NaN stays NaN */
  }
#pragma omp simd
  for (i64 j = 0; j < m; j++) y[j] = x[j] / (1.f + expf(t[j]));
}

void ast_swish(i64 n, const float *x, float *y) {
#pragma omp parallel for schedule(static) if (parallel : parallel_worth(n))
  for (i64 b = 0; b < n; b += SWISH_BLOCK) swish_block(n - b < SWISH_BLOCK ? n - b : SWISH_BLOCK, x + b, y + b);
}

/*
 * float -> bfloat16, round to nearest even, as x86's VCVTNEPS2BF16 (what oneDNN's f32 -> bf16
 * reorder runs on CPUs with bf16 instructions): NaN stays NaN (quiet), a denormal input gives
 * a signed zero. Branch-free so that the loops below vectorise.
 */
static inline uint16_t bf16_round(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  const uint32_t nan = (u & 0x7fffffffu) > 0x7f800000u;
  const uint32_t tiny = (u & 0x7f800000u) == 0;
  const uint32_t flushed = tiny ? (u & 0x80000000u) : u;
  const uint32_t rounded = (flushed + 0x7fffu + ((flushed >> 16) & 1u)) >> 16;
  return (uint16_t)(nan ? ((u >> 16) | 0x40u) : rounded);
}

/* y16 = bf16(swish(x)) over n values (the input of a bf16 convolution, without its reorder) */
void ast_swish_bf16(i64 n, const float *x, uint16_t *y16) {
#pragma omp parallel for schedule(static) if (parallel : parallel_worth(n))
  for (i64 b = 0; b < n; b += SWISH_BLOCK) {
    const i64 m = n - b < SWISH_BLOCK ? n - b : SWISH_BLOCK;
    float y[SWISH_BLOCK];
    swish_block(m, x + b, y);
#pragma omp simd
    for (i64 j = 0; j < m; j++) y16[b + j] = bf16_round(y[j]);
  }
}

/*
 * swish(x) for x [B, P, C] into y (float) or, y null, y16 (bf16), and in the same pass
 * means[b, c] = mean over p of the float swish values (EfficientNet's squeeze-excitation input;
 * double sums per thread, combined in thread order).
 */
static int swish_means(i64 B, i64 P, i64 C, const float *x, float *y, uint16_t *y16, float *means) {
  int T = omp_get_max_threads();
  double *acc = thread_sums(T, C);
  if (!acc) return 1;
  for (i64 b = 0; b < B; b++) {
    if (b > 0) memset(acc, 0, (size_t)T * C * sizeof(double));
#pragma omp parallel num_threads(T)
    {
      double *a = acc + (i64)omp_get_thread_num() * C;
      float block[SWISH_BLOCK];
#pragma omp for schedule(static)
      for (i64 p = 0; p < P; p++) {
        const i64 row = (b * P + p) * C;
        for (i64 c0 = 0; c0 < C; c0 += SWISH_BLOCK) {
          const i64 m = C - c0 < SWISH_BLOCK ? C - c0 : SWISH_BLOCK;
          float *yr = y ? y + row + c0 : block;
          swish_block(m, x + row + c0, yr);
#pragma omp simd
          for (i64 j = 0; j < m; j++) a[c0 + j] += yr[j];
          if (!y) {
            uint16_t *out = y16 + row + c0;
#pragma omp simd
            for (i64 j = 0; j < m; j++) out[j] = bf16_round(block[j]);
          }
        }
      }
    }
    for (i64 c = 0; c < C; c++) means[b * C + c] = (float)(thread_total(acc, T, C, c) / (double)P);
  }
  free(acc);
  return 0;
}

int ast_swish_means(i64 B, i64 P, i64 C, const float *x, float *y, float *means) {
  return swish_means(B, P, C, x, y, NULL, means);
}

/* ast_swish_means with the output stored as bf16; the means are of the float values */
int ast_swish_means_bf16(i64 B, i64 P, i64 C, const float *x, uint16_t *y16, float *means) {
  return swish_means(B, P, C, x, NULL, y16, means);
}

/* ------------------------------------------------- activations after a convolution ---- */

/*
 * In place over a convolution's fresh output: kind 0 relu, 1 relu6, 2 leaky relu (alpha).
 * NaN stays NaN (as tfjs' cpu kernels: comparisons with NaN are false).
 */
void ast_activation_inplace(i64 n, float *y, int kind, float alpha) {
#pragma omp parallel for simd schedule(static) if (parallel : parallel_worth(n))
  for (i64 i = 0; i < n; i++) {
    float v = y[i];
    if (kind == 0) y[i] = v < 0.f ? 0.f : v;
    else if (kind == 1) y[i] = v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
    else y[i] = v < 0.f ? alpha * v : v;
  }
}

/* ------------------------------------------------------------------ edge padding ---- */

/* out [N, H+2p, W+2p, C] = x [N, H, W, C] with edge pixels repeated (PyTorch 'replicate') */
void ast_replicate_pad(i64 N, i64 H, i64 W, i64 C, i64 pad, const float *x, float *out) {
  const i64 Hp = H + 2 * pad, Wp = W + 2 * pad;
#pragma omp parallel for schedule(static) if (parallel : parallel_worth(N * Hp * Wp * C))
  for (i64 r = 0; r < N * Hp; r++) {
    const i64 b = r / Hp, py = r % Hp;
    const i64 iy = py < pad ? 0 : (py >= pad + H ? H - 1 : py - pad);
    const float *src = x + ((b * H + iy) * W) * C;
    float *dst = out + r * Wp * C;
    for (i64 k = 0; k < pad; k++) {
      memcpy(dst + k * C, src, C * sizeof(float));
      memcpy(dst + (pad + W + k) * C, src + (W - 1) * C, C * sizeof(float));
    }
    memcpy(dst + pad * C, src, W * C * sizeof(float));
  }
}

/* dx [N, H, W, C] = the sum of dy [N, H+2p, W+2p, C] over every padded copy of each pixel */
void ast_replicate_pad_grad(i64 N, i64 H, i64 W, i64 C, i64 pad, const float *dy, float *dx) {
  const i64 Hp = H + 2 * pad, Wp = W + 2 * pad;
  /* per output row: the padded rows that copy it (one, or pad + 1 at the edges), all columns */
#pragma omp parallel for schedule(static) if (parallel : parallel_worth(N * H * W * C))
  for (i64 r = 0; r < N * H; r++) {
    const i64 b = r / H, iy = r % H;
    const i64 y0 = iy == 0 ? 0 : iy + pad, y1 = iy == H - 1 ? Hp - 1 : iy + pad;
    float *d = dx + r * W * C;
    memset(d, 0, W * C * sizeof(float));
    for (i64 py = y0; py <= y1; py++) {
      const float *row = dy + (b * Hp + py) * Wp * C;
      for (i64 px = 0; px < Wp; px++) {
        const i64 ix = px < pad ? 0 : (px >= pad + W ? W - 1 : px - pad);
        const float *s = row + px * C;
        float *o = d + ix * C;
#pragma omp simd
        for (i64 c = 0; c < C; c++) o[c] += s[c];
      }
    }
  }
}
