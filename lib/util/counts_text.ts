/** "3 recorded, 2 failed": how many items fall in each group, in the order groups first appear; "" for none. */
export function countsText<T>(items: T[], group: (item: T) => string): string {
  return Object.entries(Object.groupBy(items, group)).map(([name, members]) => `${members!.length} ${name}`).join(", ");
}
