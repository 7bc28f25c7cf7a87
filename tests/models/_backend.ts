/**
 * Conformance tests run on the backend the project trains with (initBackend's choice; set
 * AST_BACKEND=cpu etc. to check another one: read as the CLI does, runtimeFromEnv).
 */
import { initBackend } from "../../lib/backend/backend.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";

export async function initConformanceBackend(): Promise<void> {
  const info = await initBackend(runtimeFromEnv().backend);
  if (!initConformanceBackend.said) {
    initConformanceBackend.said = true;
    console.log(`  (conformance on backend ${info.name} x${info.threads})`);
  }
}
initConformanceBackend.said = false;
