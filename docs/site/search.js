// Site-wide search over the guides (page and section titles, text) and the API (every
// documented symbol of every package). The index is built by scripts/build.mjs into
// search-index.json: [{title, url, kind, context, text}], urls relative to the site root.
const root = document.body.dataset.root ?? '';
const input = document.getElementById('site-search');
const list = document.getElementById('site-search-results');
let index = null;

async function loadIndex() {
  if (index == null) {
    const response = await fetch(`${root}search-index.json`);
    if (!response.ok) throw new Error(`search index: HTTP ${response.status}`);
    index = await response.json();
  }
  return index;
}

/** Score of one entry for a lower-case query; 0 = no match. Names beat text. */
function score(entry, q) {
  const title = entry.title.toLowerCase();
  if (title === q) return 100;
  if (title.startsWith(q)) return 60;
  if (title.includes(q)) return 40;
  if ((entry.context ?? '').toLowerCase().includes(q)) return 15;
  if ((entry.text ?? '').toLowerCase().includes(q)) return 10;
  return 0;
}

/** The best `limit` entries for `query` (every word must match somewhere). */
export function search(entries, query, limit = 12) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  return entries.map((entry) => {
    let total = 0;
    for (const w of words) {
      const s = score(entry, w);
      if (s === 0) return null;
      total += s;
    }
    return {entry, total: total + (entry.kind === 'Guide' ? 1 : 0)};
  }).filter(Boolean).sort((a, b) => b.total - a.total || a.entry.title.localeCompare(b.entry.title))
    .slice(0, limit).map((r) => r.entry);
}

function render(results, query) {
  list.replaceChildren();
  if (!query.trim()) { list.hidden = true; return; }
  if (results.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = `No match for “${query}”`;
    list.append(li);
  }
  for (const entry of results) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = root + entry.url;
    const name = document.createElement('span');
    name.className = 'result-title';
    name.textContent = entry.title;
    const kind = document.createElement('span');
    kind.className = 'result-kind';
    kind.textContent = entry.context ? `${entry.kind} · ${entry.context}` : entry.kind;
    a.append(name, kind);
    li.append(a);
    list.append(li);
  }
  list.hidden = false;
}

if (input && list) {
  input.addEventListener('input', async () => {
    const query = input.value;
    const entries = await loadIndex();
    if (input.value === query) render(search(entries, query), query);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      const first = list.querySelector('a');
      if (first) window.location.href = first.href;
    } else if (event.key === 'Escape') {
      list.hidden = true;
    }
  });
  document.addEventListener('click', (event) => {
    if (!event.target.closest('.site-search')) list.hidden = true;
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === '/' && document.activeElement !== input &&
        !(document.activeElement instanceof HTMLInputElement)) {
      event.preventDefault();
      input.focus();
    }
  });
}
