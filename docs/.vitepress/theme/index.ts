// VitePress's default theme, with KaTeX's stylesheet (fonts bundled, nothing from a CDN),
// the few styles of our own content (figures, notes, the demo), and display formulas that
// shrink to fit a narrow screen.
import DefaultTheme from 'vitepress/theme';
import type {Theme} from 'vitepress';
import {onContentUpdated} from 'vitepress';
import {onMounted, onUnmounted} from 'vue';
import 'katex/dist/katex.min.css';
import './custom.css';

/**
 * Scales every display formula that is wider than its block down to the block's width (KaTeX
 * sizes everything in em), so that a phone shows the whole formula instead of a scrolling
 * strip. Wide formulas are also written on several lines (docs/guides/concepts.md), so the
 * scale stays mild; at full width nothing changes.
 */
function fitDisplayMath(): void {
  for (const display of Array.from(document.querySelectorAll<HTMLElement>('.vp-doc .katex-display'))) {
    const block = display.parentElement;
    if (block == null) continue;
    display.style.fontSize = '';
    const {clientWidth, scrollWidth} = block;
    // a percent of the unscaled size, rounded down (and 1 % off for the rounding of glyph widths)
    if (scrollWidth > clientWidth) display.style.fontSize = `${Math.floor(100 * clientWidth / scrollWidth) - 1}%`;
  }
}

export default {
  extends: DefaultTheme,
  setup() {
    // again once KaTeX's fonts have loaded: they make the formulas wider than the fallback font
    onContentUpdated(() => {
      fitDisplayMath();
      void document.fonts.ready.then(fitDisplayMath);
    });
    onMounted(() => window.addEventListener('resize', fitDisplayMath));
    onUnmounted(() => window.removeEventListener('resize', fitDisplayMath));
  },
} satisfies Theme;
