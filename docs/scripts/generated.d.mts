/** The Markdown of the generated section `name` (bench, paper, mnist, packages) for the page at `page`. */
export function generatedSection(name: string, page: string): string;
