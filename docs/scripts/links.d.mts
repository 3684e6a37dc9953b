/** Checks every internal link of the built site in `outDir`; returns "page: problem" strings. */
export declare function checkLinks(outDir: string): string[];
