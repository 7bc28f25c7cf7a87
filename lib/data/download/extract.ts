/**
 * Unpacks a .tar.xz with the system `tar` (GNU tar runs `xz` itself). Chosen over an npm
 * decoder: the pure-JS xz decoders are several times slower on multi-GB archives (MVTec 3D-AD's
 * is ~12 GB) and the fast ones are native addons; Debian's tar and xz-utils are on every machine
 * the project runs on. GNU tar drops leading `/` and refuses `..` in member names, so nothing
 * lands outside the destination; `--no-same-owner` keeps files owned by the user running it.
 */
import { isPermissionRefusal, PermissionNeeded } from "../../util/permission.ts";

export class ExtractError extends Error {}

const INSTALL_HINT = "install GNU tar and xz (Debian/Ubuntu: apt-get install tar xz-utils)";

/** Extracts `archive` (.tar.xz) into the existing folder `dest`. */
export async function extractTarXz(archive: string, dest: string): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("tar", {
      args: ["-xJf", archive, "-C", dest, "--no-same-owner"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (isPermissionRefusal(e)) throw new PermissionNeeded("--allow-run=tar", "to unpack the .tar.xz archives with the system tar");
    if (e instanceof Deno.errors.NotFound) throw new ExtractError(`cannot unpack ${archive}: no \`tar\` on this machine; ${INSTALL_HINT}`);
    throw e;
  }
  if (out.success) return;
  const stderr = new TextDecoder().decode(out.stderr).trim();
  const noXz = /xz: (Cannot exec|not found)|Cannot exec.*xz|xz.*No such file/i.test(stderr);
  const first = stderr.split("\n").filter(Boolean).slice(0, 3).join(" | ");
  throw new ExtractError(
    noXz ? `cannot unpack ${archive}: \`tar\` cannot run \`xz\`; ${INSTALL_HINT}` : `cannot unpack ${archive}: tar exited with ${out.code}: ${first}`,
  );
}
