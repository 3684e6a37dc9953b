/** The part of a markdown-it instance the plugin uses (VitePress's and @types/markdown-it's both fit). */
interface CoreRules {
  core: {ruler: {push(name: string, rule: (state: {tokens: unknown[], env: {relativePath?: string}}) => void): void}};
}

/** Resolves the guides' `[text](api:Name)` links through `names` (api/names.json); throws on an unknown name. */
export function apiLinks(md: CoreRules, names: Record<string, string>): void;
