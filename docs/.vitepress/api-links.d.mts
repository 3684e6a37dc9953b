import type MarkdownIt from 'markdown-it';

/** Resolves the guides' `[text](api:Name)` links through `names` (api/names.json); throws on an unknown name. */
export function apiLinks(md: MarkdownIt, names: Record<string, string>): void;
