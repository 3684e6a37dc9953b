/** One heading of a rendered page. */
export interface Heading {
  /** 1 for `#`, 2 for `##`, ... */
  level: number;
  /** The heading's text. */
  text: string;
  /** Its id (anchor). */
  id: string;
}
/** A URL-safe id for a heading text. */
export declare function slugify(text: string): string;
/** Renders Markdown (with `$...$` and `$$...$$` math) to HTML; `where` names it in errors. */
export declare function renderMarkdown(source: string, where: string):
  {html: string, headings: Heading[], title: string};
/** Inline Markdown to HTML. */
export declare function renderInline(source: string): string;
