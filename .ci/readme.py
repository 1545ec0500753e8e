"""Write README.md from nbs/index.ipynb (nbdev-readme needs Quarto, which cannot be installed offline).
Markdown cells are copied, code cells become fenced blocks followed by their text outputs; `#| hide` cells are left out.
Usage: python .ci/readme.py [--check]   (--check: exit 1 if README.md is not up to date)"""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def _src(c): return ''.join(c['source'])

def render(nb):
    parts = []
    for c in nb['cells']:
        src = _src(c)
        if c['cell_type'] == 'markdown': parts.append(src.strip()); continue
        if re.search(r'^#\|\s*hide\s*$', src, re.M): continue
        code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
        if code: parts.append(f'```python\n{code}\n```')
        out = ''.join(''.join(o.get('text', '')) if o.get('output_type') == 'stream'
                      else ''.join(o.get('data', {}).get('text/plain', '')) for o in c.get('outputs', []))
        out = re.sub(r'\x1b\[[0-9;]*m', '', out)
        out = '\n'.join(l.rstrip('\r').split('\r')[-1] for l in out.split('\n'))  # progress bars: keep what a terminal shows last
        out = '\n'.join(l for l in out.split('\n') if 'Warning: ' not in l and l.strip() != 'warnings.warn(').strip('\n')  # library warnings
        if out: parts.append(f'```\n{out}\n```')
    return '<!-- generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file -->\n\n' + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    txt = render(json.loads((root/'nbs'/'index.ipynb').read_text()))
    readme = root/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_bytes() != txt.encode('utf-8'): sys.exit('README.md is out of date: run python .ci/readme.py')
    else: readme.write_bytes(txt.encode('utf-8'))
