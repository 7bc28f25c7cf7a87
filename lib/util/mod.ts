/**
 * lib/util: small helpers every folder may use — seeded random numbers (mulberry32, derived
 * seeds, permutations), project paths, file existence, disk usage. Imports nothing from lib/.
 */
export { countsText } from "./counts_text.ts";
export { diskUsage, formatBytes } from "./disk_usage.ts";
export { exists, tempSibling } from "./fs.ts";
export { PROJECT_ROOT, projectPath, sharedDir } from "./project.ts";
export { deriveSeed, mulberry32, permutation, uniformArray } from "./random.ts";
