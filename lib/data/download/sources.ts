/**
 * Where MVTec AD and MVTec 3D-AD come from: MVTec's official archives (hosted on www.mydrive.ch,
 * linked from https://www.mvtec.com/company/research/datasets after accepting the licence), one
 * per dataset and one per class, with the hashes that are published for them.
 *
 * Provenance (facts copied, no code):
 * - MVTec AD whole archive URL and SHA-256: anomalib, src/anomalib/data/datamodules/image/mvtecad.py
 *   (DOWNLOAD_INFO; github.com/openvinotoolkit/anomalib at 161bb369, 2025-04; anomalib checks
 *   hashes with SHA-256).
 * - MVTec 3D-AD whole archive URL and MD5: anomalib, src/anomalib/data/datamodules/depth/mvtec_3d.py
 *   (DOWNLOAD_INFO, same commit). Its `hashsum` there has 32 hex digits: an MD5 (older anomalib
 *   checked MD5), the same value other download scripts check with `md5sum`. No SHA-256 is
 *   published, so the SHA-256 is recorded on first download (see below).
 * - MVTec AD per-class URLs: the historically published links of share 38536 (pill: share 43421),
 *   as listed in many public download scripts (e.g. the `subset_dict` of several repositories'
 *   `download_mvtec.py`). Each class has its own file id, not one path with the class swapped in.
 * - MVTec 3D-AD per-class URLs: shares 45891-45900, listed beside a script citing
 *   https://www.mvtec.com/research-teaching/datasets/mvtec-3d-ad/downloads.
 * No per-class hash is published anywhere we found. For an archive without a published SHA-256
 * the command records the hash it got in `<archive>.sha256` beside the archive and checks it on
 * later runs (trust on first use, as the weights download does); `--sha256 HEX` pins one.
 *
 * MVTec has re-issued the share links before (other tokens for the same files); when a link
 * stops working, copy the current one from MVTec's download page and pass it with `--url`.
 */

export type DatasetId = "mvtec-ad" | "mvtec-3d";
export const DATASET_IDS: readonly DatasetId[] = ["mvtec-ad", "mvtec-3d"];

export interface ArchiveSource {
  /** file name the archive is saved as (its name in the URL) */
  fileName: string;
  url: string;
  /** published SHA-256, or null when none is published (recorded on first download) */
  sha256: string | null;
  /** published MD5, checked as well when given (MVTec 3D-AD's whole archive has only this) */
  md5?: string;
}

export interface DatasetSource {
  id: DatasetId;
  title: string;
  /** the folder the experiments read by default (experiments/datasets.ts) */
  defaultOut: string;
  /** the whole dataset as one archive */
  whole: ArchiveSource;
  /** one archive per class, by class name */
  classes: Record<string, ArchiveSource>;
  /** the `--mode` to suggest for training */
  trainMode: "rgb" | "combi";
}

/** Hosts the archives are served from: the `data` task's --allow-net list. */
export const DOWNLOAD_HOSTS = ["www.mydrive.ch", "mydrive.ch"];

export const LICENCE_LINE =
  "MVTec AD / MVTec 3D-AD are licensed CC BY-NC-SA 4.0 (non-commercial); see https://www.mvtec.com/company/research/datasets";

const MYDRIVE = "https://www.mydrive.ch/shares";
const AD_SHARE = `${MYDRIVE}/38536/3830184030e49fe74747669442f0f282/download`;

/** A class archive named `<name>.tar.xz` at `base/<file id>/<name>.tar.xz`, no published hash. */
const classArchive = (base: string, fileId: string, name: string): ArchiveSource => ({
  fileName: `${name}.tar.xz`,
  url: `${base}/${fileId}/${name}.tar.xz`,
  sha256: null,
});

const AD_CLASS_IDS: Record<string, string> = {
  bottle: "420937370-1629951468",
  cable: "420937413-1629951498",
  capsule: "420937454-1629951595",
  carpet: "420937484-1629951672",
  grid: "420937487-1629951814",
  hazelnut: "420937545-1629951845",
  leather: "420937607-1629951964",
  metal_nut: "420937637-1629952063",
  screw: "420938130-1629953152",
  tile: "420938133-1629953189",
  toothbrush: "420938134-1629953256",
  transistor: "420938166-1629953277",
  wood: "420938383-1629953354",
  zipper: "420938385-1629953449",
};

/** MVTec 3D-AD classes: share number, share token, file id. */
const AD3D_CLASS_SHARES: Record<string, [string, string, string]> = {
  bagel: ["45891", "477cd0a09ea8683b7b77463cc205baa8", "428793580-1643274607"],
  cable_gland: ["45892", "8836f2fd7407ec1c54dc165a5b8a2e91", "428792309-1643274318"],
  carrot: ["45893", "4d27bf0566fbd64f05aa34334324b44a", "428796332-1643275849"],
  cookie: ["45894", "2e94f8ff5f36162f8be266e7b482d1b6", "428796516-1643276093"],
  dowel: ["45895", "4bc9099f7976819d8d458453e831fc7c", "428793974-1643275086"],
  foam: ["45896", "fb990326daa1f3325fa535411bb188c6", "428797064-1643276186"],
  peach: ["45897", "055d18562435430a64d1edc98da58d2b", "428797463-1643276448"],
  potato: ["45898", "7b07b3c833a309112d6daca71f31cba2", "428797964-1643276600"],
  rope: ["45899", "cec7d3a6c2585260ddcc58dd2269e0ee", "428798351-1643276827"],
  tire: ["45900", "c8261149763d942e033a22a0e8597b5d", "428798689-1643276973"],
};

export const SOURCES: Record<DatasetId, DatasetSource> = {
  "mvtec-ad": {
    id: "mvtec-ad",
    title: "MVTec AD",
    defaultOut: "data/mvtec_anomaly_detection",
    whole: {
      fileName: "mvtec_anomaly_detection.tar.xz",
      url: `${AD_SHARE}/420938113-1629952094/mvtec_anomaly_detection.tar.xz`,
      sha256: "cf4313b13603bec67abb49ca959488f7eedce2a9f7795ec54446c649ac98cd3d",
    },
    classes: {
      ...Object.fromEntries(Object.entries(AD_CLASS_IDS).map(([name, id]) => [name, classArchive(AD_SHARE, id, name)])),
      pill: classArchive(`${MYDRIVE}/43421/11a215a5749fcfb75e331ddd5f8e43ee/download`, "420938129-1629953099", "pill"),
    },
    trainMode: "rgb",
  },
  "mvtec-3d": {
    id: "mvtec-3d",
    title: "MVTec 3D-AD",
    defaultOut: "data/mvtec_3d_anomaly_detection",
    whole: {
      fileName: "mvtec_3d_anomaly_detection.tar.xz",
      url: `${MYDRIVE}/45920/dd1eb345346df066c63b5c95676b961b/download/428824485-1643285832/mvtec_3d_anomaly_detection.tar.xz`,
      sha256: null,
      md5: "d8bb2800fbf3ac88e798da6ae10dc819",
    },
    classes: Object.fromEntries(
      Object.entries(AD3D_CLASS_SHARES).map(([name, [share, token, id]]) => [name, classArchive(`${MYDRIVE}/${share}/${token}/download`, id, name)]),
    ),
    trainMode: "combi",
  },
};

export function isDatasetId(s: string): s is DatasetId {
  return (DATASET_IDS as readonly string[]).includes(s);
}
