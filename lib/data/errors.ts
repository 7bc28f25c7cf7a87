/** The data part's one error class: a file or folder that cannot be a dataset, named with the fix. */
export class DatasetError extends Error {}
