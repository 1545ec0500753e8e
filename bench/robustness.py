"""How well runs hold up on shifted images: AUC and HTER of each run on its validation images under photometric corruptions
(lower contrast, gamma, blur, noise: what a different scanner or site does to an image), and each run against the first.

    python bench/robustness.py RUN_A RUN_B [RUN ...] [--work DIR]

A run written RUN@last is the run's model with the weights of its last epoch (models/last.pth) instead of the kept ones;
RUN@ema with the moving average of its last epoch (models/last_ema.pth, runs with --ema).

The runs must share their validation images (the same data and seed). The corrupted copies are written once to --work.
The comparison is fastcls's paired stratified bootstrap over all (image, corruption) pairs; the corruptions of one image
are not independent, so its interval is narrower than it should be: read it as a screen. The last line is machine-readable.
"""
import argparse, json
from pathlib import Path
import numpy as np, pandas as pd
from PIL import Image, ImageFilter
from fastcls.predict import load_model, predict_files
from fastcls.metrics import paired_bootstrap, binary_report

def _contrast(a, rng): return a.mean() + 0.6 * (a - a.mean())
def _gamma(a, rng): return 255 * (a / 255) ** 1.5
def _blur(a, rng): return np.asarray(Image.fromarray(a.astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8)), dtype=float)
def _noise(a, rng): return a + rng.normal(0, 15, a.shape)
corruptions = dict(contrast=_contrast, gamma=_gamma, blur=_blur, noise=_noise)

def corrupt(files, work:Path):
    "Write each corruption of `files` to work/<corruption>/<name>, once"
    rng = np.random.RandomState(0)
    for name, f in corruptions.items():
        d = work/name; d.mkdir(parents=True, exist_ok=True)
        for src in files:
            out = d/Path(src).name
            if out.exists(): continue
            im = Image.open(src); a = np.asarray(im, dtype=float)
            Image.fromarray(np.clip(f(a, rng), 0, 255).round().astype(np.uint8), mode=im.mode).save(out)

def _load(spec):
    "The model of a run folder, with the weights of its last epoch (`RUN@last`) or their average (`RUN@ema`) when asked"
    import torch
    run, _, which = spec.partition('@')
    learn = load_model(Path(run)/'model.pkl')
    if which == 'last': learn.model.load_state_dict(torch.load(Path(run)/'models'/'last.pth', weights_only=False)['model'])
    if which == 'ema': learn.model.load_state_dict(torch.load(Path(run)/'models'/'last_ema.pth', weights_only=False)['module'])
    return Path(run), learn

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('runs', nargs='+'); ap.add_argument('--work', default='robustness_images')
    a = ap.parse_args()
    vp = pd.read_csv(Path(a.runs[0].partition('@')[0])/'valid_predictions.csv', dtype={'label': str})
    work = Path(a.work); corrupt(vp.file, work)
    targs = np.tile(vp.target.values, len(corruptions))
    probs, rows = {}, []
    for run in a.runs:
        folder, learn = _load(run)
        v = pd.read_csv(folder/'valid_predictions.csv', dtype={'label': str})
        if sorted(v.file) != sorted(vp.file): raise SystemExit(f'{run} has other validation images than {a.runs[0]}')
        with learn.no_bar():
            clean = binary_report(predict_files(learn, vp.file), vp.target.values, n_boot=0)
            probs[run] = np.concatenate([predict_files(learn, [work/c/Path(f).name for f in vp.file]) for c in corruptions])
        per = {c: binary_report(p, vp.target.values, n_boot=0) for c, p in zip(corruptions, np.split(probs[run], len(corruptions)))}
        allr = binary_report(probs[run], targs, n_boot=0)
        print(f"{run}: clean AUC {clean['roc_auc']:.4f} HTER {clean['hter']:.4f}; all corruptions AUC {allr['roc_auc']:.4f} HTER {allr['hter']:.4f} (FAR {allr['far']:.3f} FRR {allr['frr']:.3f}); " +
              ', '.join(f"{c} {r['roc_auc']:.3f}/{r['hter']:.3f}" for c, r in per.items()))
        row = dict(run=run, clean_roc_auc=round(clean['roc_auc'], 4), clean_hter=round(clean['hter'], 4), roc_auc=round(allr['roc_auc'], 4), hter=round(allr['hter'], 4), far=round(allr['far'], 4), frr=round(allr['frr'], 4))
        if run != a.runs[0]:
            c = paired_bootstrap(probs[a.runs[0]], probs[run], targs)
            for k, d in c.items():
                print(f"    {k} vs {a.runs[0]}: {d['difference']:+.4f} [{d['lo']:+.4f}, {d['hi']:+.4f}] p={d['p_value']:.3f}")
                row.update({f'{k}_diff': round(d['difference'], 4), f'{k}_lo': round(d['lo'], 4), f'{k}_hi': round(d['hi'], 4), f'{k}_p': round(d['p_value'], 3)})
        rows.append(row)
    print(json.dumps(rows))

if __name__ == '__main__': main()
