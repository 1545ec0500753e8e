"""Open the built docs site (_site/, from `mkdocs build --strict`) in headless Chromium and check what a reader sees.
The site is served on 127.0.0.1 only, and the browser is Debian's chromium driven by Playwright (as in nbs/07_review.ipynb's
browser test: Playwright never downloads a browser here); requests that leave 127.0.0.1 are blocked.
Checks: links between pages reach their page and anchor; the home page shows the title and links to every page; the page that documents `train` (found by searching the
built HTML for `def train(`) shows its signature; the first page with a figure (in nav order) shows it loaded, beside a signature;
no page shows nbdev's directives (`#|`) or the hidden `from nbdev.showdoc import` cells.
Usage: python .ci/docs_test.py   (exit 1 on failure)"""
import html, re, shutil, sys, tempfile, threading, time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

site = Path(__file__).resolve().parent.parent/'_site'
TIMEOUT_MS = 60_000

def text_of(f): return html.unescape(re.sub(r'<[^>]+>', '', f.read_text(encoding='utf-8')))

def pages():
    "The built pages in nav order: the home page's nav links"
    idx = (site/'index.html').read_text(encoding='utf-8')
    nav = [h for h in re.findall(r'class="md-nav__link[^"]*"[^>]*href="([^"#]+\.html)"|href="([^"#]+\.html)"[^>]*class="md-nav__link', idx) for h in h if h]
    return list(dict.fromkeys(site/h for h in nav if (site/h).is_file()))

def chromium():
    exe = shutil.which('chromium')
    if not exe: sys.exit("docs test: Chromium not found (apt-get install chromium: the test uses Debian's /usr/bin/chromium, not Playwright's download)")
    return exe

def broken_links():
    "Links between pages that miss their page or anchor, and ids used twice on a page (mkdocs checks the links of Markdown pages, not of notebooks)"
    all_ids = {f: re.findall(r'\bid="([^"]+)"', f.read_text(encoding='utf-8')) for f in site.rglob('*.html') if f.name != '404.html'}
    ids = {f: set(v) for f, v in all_ids.items()}
    bad = [f'{f.relative_to(site)}: id {i!r} used {v.count(i)} times' for f, v in all_ids.items() for i in set(v) if v.count(i) > 1]
    for f in ids:
        for h in re.findall(r'href="([^"]+)"', f.read_text(encoding='utf-8')):
            if re.match(r'^[a-z]+:', h) or h.startswith('/'): continue
            pg, _, anc = html.unescape(h).partition('#')
            tgt = (f.parent/pg).resolve() if pg else f
            if pg and not tgt.exists(): bad.append(f'{f.relative_to(site)} -> {h} (no such page)')
            elif anc and tgt in ids and anc not in ids[tgt]: bad.append(f'{f.relative_to(site)} -> {h} (no such anchor)')
    return sorted(set(bad))

class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

def main():
    t0 = time.time()
    if not (site/'index.html').is_file(): sys.exit(f'docs test: {site/"index.html"} not found: build the site first (python .ci/docs.py && mkdocs build --strict)')
    all_pages, checks = pages(), []
    api = [p for p in all_pages if p.name != 'index.html']
    assert api, 'no API page in the nav of index.html'
    train_page = next((p for p in api if 'def train(' in text_of(p)), None)
    assert train_page, "no page documents `train`: no built page holds 'def train('"
    fig_page = next((p for p in api if re.search(r'<img[^>]+src="data:image/', p.read_text(encoding='utf-8')) and re.search(r'\bdef \w+\(', text_of(p))), None)
    assert fig_page, 'no API page shows both a figure (an output image) and a signature'

    bad = broken_links()
    assert not bad, f'{len(bad)} broken link(s) or duplicate id(s):\n' + '\n'.join(bad[:20])
    checks.append(f'links between {len(all_pages)} pages')

    from playwright.sync_api import sync_playwright
    srv = ThreadingHTTPServer(('127.0.0.1', 0), partial(_Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base, blocked = f'http://127.0.0.1:{srv.server_address[1]}/', []
    def _route(route):
        u = urlparse(route.request.url)
        if u.scheme in ('data', 'blob') or u.hostname == '127.0.0.1': route.continue_()
        else: blocked.append(route.request.url); route.abort()
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as prof:
            ctx = pw.chromium.launch_persistent_context(prof, executable_path=chromium(), headless=True,
                args=['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'])
            try:
                ctx.route('**/*', _route)
                page = ctx.new_page()
                def open_page(f):
                    rel = f.relative_to(site).as_posix()
                    r = page.goto(base + rel, timeout=TIMEOUT_MS)
                    assert r and r.ok, f'{rel}: HTTP {r and r.status}'
                    body = page.inner_text('article')
                    assert '#|' not in body, f'{rel} shows an nbdev directive: ...{body[body.index("#|")-100:body.index("#|")+100]}...'
                    assert 'from nbdev.showdoc import' not in body, f'{rel} shows a #| hide cell'
                    return rel, body

                rel, body = open_page(site/'index.html')
                assert page.title().startswith('fastcls'), f'index.html: title {page.title()!r}'
                assert page.locator('article h1').first.is_visible(), 'index.html: no heading'
                hrefs = set(page.eval_on_selector_all('a[href]', 'els => els.map(e => e.href)'))
                missing = [p.relative_to(site).as_posix() for p in api if base + p.relative_to(site).as_posix() not in hrefs]
                assert not missing, f'index.html: the nav does not link to {missing}'
                checks.append(f'{rel} (links to {len(api)} pages)')

                rel, body = open_page(train_page)
                sig = page.locator('pre', has_text=re.compile(r'def train\(')).first
                assert sig.is_visible(), f'{rel}: the signature of train is not visible'
                checks.append(f'{rel} (signature: {" ".join(sig.inner_text().split())[:60]}...)')

                rel, body = open_page(fig_page)
                imgs = page.locator('article img[src^="data:image/"]')
                imgs.first.scroll_into_view_if_needed(timeout=TIMEOUT_MS)
                page.wait_for_function('img => img.complete', arg=imgs.first.element_handle(), timeout=TIMEOUT_MS)
                w, h = imgs.first.evaluate('img => [img.naturalWidth, img.naturalHeight]')
                assert w > 0 and h > 0 and imgs.first.is_visible(), f'{rel}: the first figure did not load ({w}x{h})'
                assert page.locator('pre', has_text=re.compile(r'\bdef \w+\(')).first.is_visible(), f'{rel}: no signature visible'
                checks.append(f'{rel} ({imgs.count()} figures, the first {w}x{h} px, and a signature)')
            finally: ctx.close()
    finally: srv.shutdown()
    if blocked: print(f'docs test: blocked {len(set(blocked))} request(s) that left 127.0.0.1, e.g. {blocked[0]}')
    print(f'docs test: Chromium shows {"; ".join(checks)} in {time.time() - t0:.0f} s')
    print(f'docs: {len(checks)} passed, 0 failed')

if __name__ == '__main__': main()
