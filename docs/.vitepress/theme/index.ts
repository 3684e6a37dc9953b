// VitePress's default theme, with KaTeX's stylesheet (fonts bundled, nothing from a CDN)
// and the few styles of our own content (figures, notes, the demo).
import DefaultTheme from 'vitepress/theme';
import 'katex/dist/katex.min.css';
import './custom.css';

export default DefaultTheme;
