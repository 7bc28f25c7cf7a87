/**
 * Label convention shared by all metrics: a label (or mask value) > 0 marks an anomalous /
 * positive sample, anything else (0, negative) a normal one. This accepts 0/1 labels and 0/255
 * masks alike. NaN labels are rejected because they would otherwise silently count as normal.
 */
export function isPositiveLabel(label: number, what: string, index: number): boolean {
  if (label !== label) throw new Error(`${what}: NaN label at index ${index}`);
  return label > 0;
}
