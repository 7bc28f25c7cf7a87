/**
 * Where a step's time goes, per tfjs kernel (the bench's profiler; CLI: profile.ts): wraps every
 * kernel registered for the active backend with a timer (wasm and cpu kernels run synchronously,
 * so the wall time of the call is the kernel's time), runs `fn`, restores the kernels and returns
 * the totals, largest first.
 *
 *   const rows = await profileKernels(() => oneTrainingStep());
 *   console.table(rows.slice(0, 15));
 */
import * as tf from "@tensorflow/tfjs-core";

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
  /** share of the summed kernel time */
  share: number;
}

/** `fn` may call `reset()` (e.g. after a warm-up step) to count only what follows. */
export async function profileKernels(
  fn: (reset: () => void) => unknown | Promise<unknown>,
  backendName = tf.getBackend(),
): Promise<KernelTime[]> {
  const originals = tf.getKernelsForBackend(backendName);
  const totals = new Map<string, { calls: number; ms: number }>();
  let depth = 0; // kernels calling kernels: count only the outermost
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        if (depth > 0) return k.kernelFunc(args);
        depth++;
        const t0 = performance.now();
        try {
          return k.kernelFunc(args);
        } finally {
          depth--;
          const t = totals.get(k.kernelName) ?? { calls: 0, ms: 0 };
          t.calls++;
          t.ms += performance.now() - t0;
          totals.set(k.kernelName, t);
        }
      },
    });
  }
  try {
    await fn(() => totals.clear());
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backendName);
      tf.registerKernel(k);
    }
  }
  const sum = [...totals.values()].reduce((a, t) => a + t.ms, 0) || 1;
  return [...totals.entries()]
    .map(([kernel, t]) => ({ kernel, calls: t.calls, ms: Math.round(t.ms * 10) / 10, share: Math.round((t.ms / sum) * 1000) / 1000 }))
    .sort((a, b) => b.ms - a.ms);
}
