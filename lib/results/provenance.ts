/** Where a result came from: code version, runtime, library versions, backend. */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendInfo } from "../backend/backend.ts";

async function gitCommit(): Promise<string | null> {
  try {
    const r = await new Deno.Command("git", { args: ["rev-parse", "HEAD"], stdout: "piped", stderr: "null" }).output();
    return r.success ? new TextDecoder().decode(r.stdout).trim() : null;
  } catch {
    return null;
  }
}

export async function provenance(backend: BackendInfo) {
  return {
    git_commit: await gitCommit(),
    deno: Deno.version.deno,
    tfjs: tf.version_core,
    backend: backend.name,
    threads: backend.threads,
    ...(backend.note ? { backend_note: backend.note } : {}),
    host: { os: Deno.build.os, arch: Deno.build.arch, cores: navigator.hardwareConcurrency },
    date: new Date().toISOString(),
  };
}
