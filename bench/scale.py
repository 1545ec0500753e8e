"""Where the time and memory of fastcls's data path go at the histopathology seeds' scale (220,000 96x96 RGB PNGs).

    python bench/make_tissue.py /tmp/scale/full --n 220000 --subsets 22000 55000 110000   # the data (not timed)
    python bench/scale.py data /tmp/scale/full --cache-path /tmp/scale/cache/full.npy --steps 30 --hashes /tmp/scale/hashes.pkl
    python bench/scale.py groups /tmp/scale/hashes.pkl --sizes 22000 55000 110000 220000
    python bench/scale.py hash /tmp/scale/full --sizes 22000 55000

`data` runs `fastcls.loaders.folder_dataloaders` exactly as `fastcls_train` does (labels read, every image decoded by
`check_images`, hashed and grouped by `add_groups`, the grouped stratified split, the cache built by `build_cache`),
timing each step by wrapping the functions it calls, then `--steps` training steps of the default model from scratch
(resnet18, the default batch augmentation, the weight average), and extrapolates them to one epoch. Each row gives the
seconds, the process's peak resident memory so far, and the load average when the step ended (the machine is shared).
`groups` times the near-copy search (`near_pairs`) and the grouping (`image_groups`) on the first N hashes of a table
saved by `data --hashes`, with the largest bucket the search compares pairwise (it must stay small for the search to be
linear). `hash` times `image_hashes` (read, decode, MD5s, perceptual hash) on the first N images.
The last line of each command is a JSON list of its rows.
"""
import argparse, functools, json, os, resource, sys, time
from pathlib import Path
import numpy as np, pandas as pd

def load()->str: return ' '.join(f'{x:.1f}' for x in os.getloadavg())
def peak_mb()->float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

ROWS = []
def row(step, seconds, **kw):
    "Record and print one measurement"
    r = dict(step=step, seconds=round(seconds, 2), peak_rss_mb=round(peak_mb()), load=load(), **kw)
    ROWS.append(r); print(f"  {step}: {seconds:.1f} s, peak RSS {r['peak_rss_mb']} MB, load {r['load']}" + ''.join(f', {k} {v}' for k, v in kw.items()), flush=True)

def timed(mod, name, step=None):
    "Wrap `mod.name` so that each call is recorded as a row"
    f = getattr(mod, name)
    @functools.wraps(f)
    def _inner(*args, **kwargs):
        t = time.time(); res = f(*args, **kwargs)
        row(step or name, time.time() - t); return res
    setattr(mod, name, _inner)

class StepTimer:
    "A fastai callback: time `n` training steps after `warmup` ones, then stop the fit"
    def __new__(cls, n, warmup):
        from fastai.callback.core import Callback, CancelFitException
        class _T(Callback):
            order = 100
            def before_fit(self): self.k, self.t0 = 0, None
            def after_batch(self):
                if not self.training: return
                self.k += 1
                if self.k == warmup: self.t0 = time.time()
                if self.k == warmup + n: self.secs = time.time() - self.t0; raise CancelFitException()
        return _T()

def cmd_data(a):
    import fastcls.loaders as L, fastcls.groups as G, fastcls.cache as C, fastcls.data as D
    from fastcls.fit import recipe_learner
    from fastcls.recipe import EMA
    for mod, name in ((L, 'read_labels'), (L, 'check_images'), (G, 'image_hashes'), (G, 'image_groups'), (D, 'group_split'), (C, 'build_cache'), (L, 'cached_dataloaders')): timed(mod, name)
    if a.skip_check:  # the checks ran in an uncapped run of the same folder: only the columns they add
        L.check_images = lambda df, **kw: df.assign(width=96, height=96, mode='RGB')
    hashes = []
    if a.hashes:  # keep the hashes `add_groups` computes, for `groups`
        f = G.image_hashes
        G.image_hashes = lambda *args, **kw: hashes.append(f(*args, **kw)) or hashes[-1]
    t = time.time()
    dls = L.folder_dataloaders(a.data, cache_path=a.cache_path, groups=a.groups, bs=a.bs, num_workers=a.num_workers)
    row('folder_dataloaders (all of the above)', time.time() - t, n_images=len(dls.table), cache_gb=round(np.prod(dls.train.cache.shape) / 1e9, 2),
        cache_in=type(dls.train.cache.numpy() if hasattr(dls.train.cache, 'numpy') else dls.train.cache).__name__)
    if hashes: pd.to_pickle(hashes[-1], a.hashes)
    if a.steps:
        t = time.time()
        learn = recipe_learner(dls, pretrained=False, progress=False)
        row('recipe_learner', time.time() - t)
        timer = StepTimer(a.steps, a.warmup)
        t = time.time()
        learn.fit_one_cycle(1, 3e-3, cbs=[timer, EMA()])
        per = timer.secs / a.steps
        row(f'{a.steps} training steps (bs {a.bs}, after {a.warmup} warm-up steps)', timer.secs, per_step_s=round(per, 3),
            epoch_min=round(per * len(dls.train) / 60, 1), steps_per_epoch=len(dls.train))
    print(json.dumps(ROWS))

def _largest_bucket(h, max_distance=4):
    "The largest bucket (hashes sharing one of the `max_distance` + 1 parts) that `near_pairs` compares pairwise"
    h, n = np.asarray(h, dtype=np.uint64), max_distance + 1
    bits, top = [64 * k // n for k in range(n + 1)], 0
    for lo, hi in zip(bits[:-1], bits[1:]):
        key = (h >> np.uint64(lo)) & np.uint64((1 << (hi - lo)) - 1)
        top = max(top, np.unique(key, return_counts=True)[1].max())
    return int(top)

def cmd_groups(a):
    from fastcls.groups import near_pairs, image_groups
    h = pd.read_pickle(a.hashes)
    for n in a.sizes:
        s = h.iloc[:n]
        u = np.unique(s.phash.values)
        t = time.time(); p = near_pairs(u); tp = time.time() - t
        t = time.time(); g = image_groups(s, hashes=s); tg = time.time() - t
        row(f'near_pairs + image_groups, {n} hashes', tp + tg, near_pairs_s=round(tp, 2), image_groups_s=round(tg, 2), pairs=len(p),
            largest_bucket=_largest_bucket(u), groups_of_several=int((np.bincount(g) > 1).sum()))
    print(json.dumps(ROWS))

def cmd_hash(a):
    from fastcls.groups import image_hashes
    from fastcls.labels import image_files
    files = [str(o) for o in image_files(Path(a.data)/'train_img')]
    for n in a.sizes:
        t = time.time(); image_hashes(pd.DataFrame({'file': files[:n]})); row(f'image_hashes, {n} images', time.time() - t, ms_per_image=round((time.time() - t) / n * 1e3, 3))
    print(json.dumps(ROWS))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    d = sub.add_parser('data'); d.add_argument('data'); d.add_argument('--cache-path'); d.add_argument('--groups')
    d.add_argument('--bs', type=int, default=64); d.add_argument('--steps', type=int, default=30); d.add_argument('--warmup', type=int, default=3)
    d.add_argument('--num-workers', type=int); d.add_argument('--hashes')
    d.add_argument('--skip-check', action='store_true', help="don't decode the images to check them (96x96 RGB assumed): for a second run on a checked folder")
    g = sub.add_parser('groups'); g.add_argument('hashes'); g.add_argument('--sizes', type=int, nargs='+', default=[22000, 55000, 110000, 220000])
    h = sub.add_parser('hash'); h.add_argument('data'); h.add_argument('--sizes', type=int, nargs='+', default=[22000, 55000])
    a = ap.parse_args()
    print('$', 'python', *sys.argv, flush=True)
    dict(data=cmd_data, groups=cmd_groups, hash=cmd_hash)[a.cmd](a)
