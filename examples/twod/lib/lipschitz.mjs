/**
 * The Lipschitz tools this example uses, from `@deepspline/lipschitz`. While that package is
 * not built, a clearly marked local stand-in (lipschitz_standin.mjs) is used and a warning is
 * printed.
 */
let impl;
let source;
try {
  impl = await import('@deepspline/lipschitz');
  if (typeof impl.lipschitzBound !== 'function' || typeof impl.tv2 !== 'function' ||
      typeof impl.lipschitzCallback !== 'function' || typeof impl.activeKnots !== 'function') {
    throw new Error('incomplete');
  }
  source = '@deepspline/lipschitz';
} catch {
  impl = await import('./lipschitz_standin.mjs');
  source = 'local stand-in (examples/twod/lib/lipschitz_standin.mjs)';
}

/** Where the Lipschitz tools come from. */
export const LIPSCHITZ_SOURCE = source;
export const {tv2, lipschitzBound, lipschitzCallback, activeKnots} = impl;
