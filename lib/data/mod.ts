/**
 * lib/data: datasets as lists of files — MVTec 3D-AD and MVTec AD class folders, plain folders of
 * your own images, the seeded synthetic generator and the generated testbeds (one AST mechanism
 * each, testbeds.ts). Indexes and reads files only: no preprocessing, no features, no tensors. May import: lib/types.ts, lib/io, lib/util.
 */
export { DatasetError, type DatasetLayout, detectLayout, listSamples, type MvtecDataset, openDataset, type Sample, type Split } from "./mvtec.ts";
export { type FolderDataset, type FolderDatasetOptions, openFolderDataset } from "./folder.ts";
export { datasetNotes, hasDefectMasks, openAnyDataset } from "./open.ts";
export { DEFECT_TYPES, type DefectType, generateDataset, type GenerateOptions } from "./synthetic.ts";
export { generateTestbed, isTestbedName, type Testbed, TESTBED_NAMES, type TestbedName, type TestbedOptions, TESTBEDS } from "./testbeds.ts";
