/** Each package's examples in `dir`: function name (`losses.hkr` for a namespace member) to its program. */
export function apiExamples(dir: string): Record<string, Map<string, string>>;
