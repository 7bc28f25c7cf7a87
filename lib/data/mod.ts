/**
 * lib/data: datasets as lists of files — MVTec 3D-AD and MVTec AD class folders, plain folders of
 * your own images, the seeded synthetic generator and the generated testbeds (one AST mechanism
 * each, testbeds.ts), and the download of the official MVTec archives (download/: sources with
 * their hashes, fetch and verify, unpack with the system tar). Indexes and reads files only: no
 * preprocessing, no features, no tensors. May import: lib/types.ts, lib/io, lib/util.
 */
export { DatasetError, type DatasetLayout, detectLayout, listSamples, type MvtecDataset, openDataset, type Sample, type Split } from "./mvtec.ts";
export { type FolderDataset, type FolderDatasetOptions, openFolderDataset } from "./folder.ts";
export { datasetNotes, hasDefectMasks, openAnyDataset } from "./open.ts";
export { DEFECT_TYPES, type DefectType, generateDataset, type GenerateOptions } from "./synthetic.ts";
export { generateTestbed, isTestbedName, type Testbed, TESTBED_NAMES, type TestbedName, type TestbedOptions, TESTBEDS } from "./testbeds.ts";
export { type ClassInPlace, downloadDataset, type DownloadDatasetOptions, type DownloadDatasetResult } from "./download/dataset.ts";
export { DATASET_IDS, type DatasetId, LICENCE_LINE, SOURCES } from "./download/sources.ts";
