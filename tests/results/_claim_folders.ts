/** Child process of run_folder_test.ts: claim N folders named BASE under PARENT, print them as JSON. */
import { claimRunFolder } from "../../lib/results/run_folder.ts";

const [parent, base, n] = Deno.args;
const claimed = await Promise.all(Array.from({ length: Number(n) }, () => claimRunFolder(parent, base)));
console.log(JSON.stringify(claimed));
