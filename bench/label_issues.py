"""Do the likely label errors of confident learning find flipped labels? Precision and recall against planted flips, next to plain top losses.

    nice -n 10 python bench/label_issues.py [--n 1200] [--flip 0.05] [--folds 3] [--epochs 5] [--size 32] [--sampler shuffle] [--lr 3e-3]

Writes the digits demo (`make_digits`, one digit against the rest, ~10% positives) with `--flip` of the labels of EACH class
flipped, cross-validates a small model trained from scratch on it (`cross_validate`, pretrained=False; plain shuffling
by default, since the class-balanced sampler draws the many false positives over and over), and compares the
images flagged by cleanlab (`label_issues.csv` of the CV folder) with as many images of largest out-of-fold loss. The last
line is machine-readable.
"""
import argparse, json, os, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd
from fastcls.datasets import make_digits
from fastcls.search import cross_validate

def _pr(flagged:set, flipped:set)->tuple:
    hit = len(flagged & flipped)
    return hit / max(1, len(flagged)), hit / max(1, len(flipped)), hit

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=1200); ap.add_argument('--flip', type=float, default=0.05)
    ap.add_argument('--folds', type=int, default=3); ap.add_argument('--epochs', type=int, default=5)
    ap.add_argument('--sampler', default='shuffle'); ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--size', type=int, default=32); ap.add_argument('--arch', default='resnet18')
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--out', default=None)
    ap.add_argument('--reuse', action='store_true', help='score the cross-validation already in OUT again instead of training')
    a = ap.parse_args()
    tmp = Path(a.out or tempfile.mkdtemp())
    d = make_digits(tmp/'digits', n=a.n, n_val=0, size=a.size)
    labels = np.array((d/'label_train.txt').read_text().split()).astype(int)
    files = sorted(str(f.resolve()) for f in (d/'train_img').iterdir())
    rng, flip = np.random.default_rng(a.seed), np.zeros(len(labels), bool)
    for c in (0, 1): flip[rng.choice(np.flatnonzero(labels == c), round(a.flip * (labels == c).sum()), replace=False)] = True
    (d/'label_train.txt').write_text(''.join(f'{l}\n' for l in np.where(flip, 1 - labels, labels)))
    flipped = {files[i] for i in np.flatnonzero(flip)}
    t0, load = time.time(), os.getloadavg()[0]
    cv = tmp/'runs'/'cv'
    if a.reuse: r = argparse.Namespace(run=str(cv), oof=json.loads((cv/'cv_summary.json').read_text())['oof'])
    else: r = cross_validate(d, folds=a.folds, out=tmp/'runs', name='cv', pretrained=False, arch=a.arch, size=a.size, epochs=a.epochs,
                       bs=64, lr=a.lr, sampler=a.sampler, progress=False, num_workers=0, seed=a.seed)
    secs = time.time() - t0
    li = pd.read_csv(Path(r.run)/'label_issues.csv', dtype={'label': str})
    li['file'] = [str(Path(f).resolve()) for f in li.file]
    k = int(li.issue.sum())
    per = {c: int((labels[flip] == c).sum()) for c in (0, 1)}
    cl = set(li.file[li.issue])
    tl = set(li.sort_values('loss', ascending=False).file.head(k))
    print(f"{len(labels)} digits ({int(labels.sum())} positives), {int(flip.sum())} labels flipped (true 0 -> 1: {per[0]}, true 1 -> 0: {per[1]}); "
          f"{a.folds}-fold CV of {a.arch} from scratch, {a.epochs} epochs at {a.size} px, sampler {a.sampler}, lr {a.lr}: {secs:.0f} s (load average {load:.1f}); "
          f"out-of-fold AUC {r.oof['roc_auc']:.3f}")
    rows = {}
    for name, s in (('cleanlab', cl), ('top losses', tl)):
        p, rec, hit = _pr(s, flipped)
        rows[name] = dict(flagged=len(s), hits=hit, precision=round(p, 3), recall=round(rec, 3))
        by = {c: len(s & {files[i] for i in np.flatnonzero(flip & (labels == c))}) for c in (0, 1)}
        print(f"{name:>10}: {len(s)} flagged, {hit} of them flipped: precision {p:.3f}, recall {rec:.3f} "
              f"(found {by[0]} of the {per[0]} true 0 -> 1, {by[1]} of the {per[1]} true 1 -> 0)")
    print(json.dumps(dict(n=len(labels), flipped=int(flip.sum()), seconds=round(secs), auc=round(r.oof['roc_auc'], 4), **rows)))

if __name__ == '__main__': main()
