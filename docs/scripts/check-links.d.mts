/** The file a static server sends for a URL path of the site in `root`, or null (a 404). */
export function servedFile(root: string, urlPath: string): string | null;
/** The internal links of the built site in `root` that a static server would not serve, or whose #anchor is missing. */
export function brokenLinks(root: string): {checked: number, problems: Array<{page: string, link: string, problem: string}>};
