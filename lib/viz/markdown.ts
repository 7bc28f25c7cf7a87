/** Markdown text as notebook output (generated prose, e.g. an ablation's interpretation). */

type DisplayFn = (bundle: Record<string, unknown>, options: { raw: true }) => Promise<void>;

/** Displays `md` in Jupyter (text/markdown, with text/plain beside it); prints it elsewhere. */
export async function showMarkdown(md: string): Promise<void> {
  let display: DisplayFn | null = null;
  try {
    const jupyter = (Deno as unknown as { jupyter?: { display?: DisplayFn } }).jupyter;
    display = typeof jupyter?.display === "function" ? jupyter.display.bind(jupyter) : null;
  } catch {
    display = null;
  }
  if (!display) {
    console.log(md);
    return;
  }
  await display({ "text/markdown": md, "text/plain": md }, { raw: true });
  await new Promise((resolve) => setTimeout(resolve, 15)); // see display.ts: the last output of a cell can be lost without it
}
