"""How honest fastcls's label-free estimates are: planted shifts of held-out labelled images, where the truth is known.

    python bench/estimates.py RUN POOL [--work DIR] [--draws 50] [--n-val 250] [--n-new 250] [--out FILE]

RUN is a run folder of `fastcls_train` (its model.pkl and valid_predictions.csv); POOL a text file of labelled images the
model did not train on, one `path label` a line. The run's validation images and POOL together are the unseen images.
Each draw takes a validation set from them (clean, their own class mix) and, from the rest, a set of images to predict
with a planted shift: the corruptions of bench/robustness.py on every image, a class-mix change (the minority class
becomes 35%), a corruption of the negative class only (the case of issue 23: the normal images look different), and
mixes of these. Every method of `fastcls.estimates` estimates accuracy, balanced accuracy, FAR and FRR of the images to
predict from the validation probabilities and labels and the new probabilities alone; the table gives how often each
interval holds the figure measured with the labels, its mean width, and how often the declining rule fires.
The model is trained once, outside this script; predictions of the corrupted copies (written once to --work) are cheap.
The last line is machine-readable (JSON rows).

    python bench/estimates.py --tables DIGITS.csv PNEU.csv [--limit 0.6]

prints the coverage table of the rows that runs saved with --out, one per data set, and how often the declining rule
fires at the residual domain AUC LIMIT (and at other limits), with the coverage of the draws it lets through.
"""
import argparse, json, os, sys
from pathlib import Path
import numpy as np, pandas as pd
from PIL import Image
sys.path.insert(0, str(Path(__file__).parent))
import robustness
from fastcls.core import predicted_class
from fastcls.predict import load_model, predict_files
from fastcls.shift import pooled_features
from fastcls.estimates import estimates_boot, figures_of, joint_of, domain_weights, label_shift_weights, decline_reason

def _bright(a, rng): return a + 40
corruptions = dict(robustness.corruptions, bright=_bright)

def versions(learn, files, work):
    "Probabilities and pooled features of `files`, clean and under each corruption (kept in work/versions.npz)"
    if (work/'versions.npz').exists():
        z = np.load(work/'versions.npz')
        return {c: (z[f'{c}_p'], z[f'{c}_f']) for c in ['clean', *corruptions]}
    robustness.corrupt(files, work)
    (work/'bright').mkdir(exist_ok=True)
    for f in files:
        im = Image.open(f); Image.fromarray(np.clip(_bright(np.asarray(im, dtype=float), None), 0, 255).round().astype(np.uint8), mode=im.mode).save(work/'bright'/Path(f).name)
    out = {}
    for c in ['clean', *corruptions]:
        fs = files if c == 'clean' else [work/c/Path(f).name for f in files]
        with learn.no_bar(): out[c] = (predict_files(learn, fs), pooled_features(learn, fs))
        print(f'{c}: {len(fs)} images predicted', flush=True)
    np.savez(work/'versions.npz', **{f'{c}_{x}': v for c, (p, f) in out.items() for x, v in (('p', p), ('f', f))})
    return out

# shift name -> (share of the minority class among the images to predict or None, corruption of class 0, of class 1)
shifts = {'none': (None, 'clean', 'clean'), 'mix': (0.35, 'clean', 'clean'),
          **{c: (None, c, c) for c in ('contrast', 'gamma', 'blur', 'noise')},
          'neg_contrast': (None, 'contrast', 'clean'), 'neg_bright': (None, 'bright', 'clean'),
          'mix+neg_contrast': (0.35, 'contrast', 'clean'), 'mix+noise': (0.35, 'noise', 'noise')}

def draw(rng, targs, n_val, n_new, share):
    "Indices of a validation set (the pool's own mix) and, from the rest, of a set of images to predict (minority share `share`)"
    perm = rng.permutation(len(targs)); val, rest = perm[:n_val], perm[n_val:]
    if share is None: return val, rest[:n_new]
    minority = np.argmin(np.bincount(targs, minlength=2))
    k = int(round(share * n_new))
    a, b = rest[targs[rest] == minority], rest[targs[rest] != minority]
    if len(a) < k: raise SystemExit(f'only {len(a)} images of the minority class left for {k}')
    return val, np.r_[a[:k], b[:n_new - k]]

def tables(paths, limit=0.6, figures=('accuracy', 'balanced_accuracy', 'far', 'frr', 'hter')):
    "Coverage and mean width of each method's interval per data set, shift and figure; the declining rule's firing rate"
    df = pd.concat([pd.read_csv(p).assign(data=Path(p).stem) for p in paths])
    if 'atc_hull' not in set(df.method):  # rows of a run before atc_hull was a method: the same hull of the same bootstrap
        a, b = [df[df.method == m].set_index(['data', 'shift', 'draw', 'figure']) for m in ('atc_pc', 'atc_ls')]
        h = a.assign(method='atc_hull', estimate=(a.estimate + b.estimate) / 2, lo=np.minimum(a.lo, b.lo), hi=np.maximum(a.hi, b.hi))
        df = pd.concat([df, h.reset_index()])
    df['covered'] = (df.lo <= df.truth) & (df.truth <= df.hi); df['width'] = df.hi - df.lo
    df['declined'] = df.residual_auc >= limit
    d = df[df.figure.isin(figures)]
    cov = d.pivot_table(index=['data', 'shift', 'method'], columns='figure', values='covered', aggfunc='mean')[list(figures)]
    wid = d.pivot_table(index=['data', 'shift', 'method'], columns='figure', values='width', aggfunc='mean')[list(figures)]
    kept = d[~d.declined].pivot_table(index=['data', 'shift', 'method'], columns='figure', values='covered', aggfunc='mean').reindex(cov.index)[list(figures)]
    tab = cov.round(2).astype(str) + ' (' + wid.round(2).astype(str) + ')'
    tab.columns = [f'{c} cov (width)' for c in tab.columns]
    tab['cov. when not declined (acc/FAR/FRR)'] = kept[['accuracy', 'far', 'frr']].astype(float).map(lambda v: '-' if v != v else f'{v:.2f}').agg('/'.join, axis=1)
    draws = df.groupby(['data', 'shift', 'draw']).agg(auc=('auc', 'first'), residual_auc=('residual_auc', 'first'), ess=('ess', 'first')).reset_index()
    fires = draws.groupby(['data', 'shift']).agg(domain_auc=('auc', 'mean'), residual_auc=('residual_auc', 'mean'), ess=('ess', 'mean'),
        **{f'declined@{l}': ('residual_auc', lambda x, l=l: (x >= l).mean()) for l in (0.55, limit, 0.65, 0.7, 0.8)})
    return tab, fires.round(3)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    if '--tables' in sys.argv:
        ap.add_argument('--tables', nargs='+'); ap.add_argument('--limit', type=float, default=0.6)
        a = ap.parse_args(); tab, fires = tables(a.tables, a.limit)
        pd.set_option('display.width', 250); pd.set_option('display.max_rows', 1000); pd.set_option('display.max_columns', 20)
        print(tab.to_string()); print(); print(fires.to_string()); return
    ap.add_argument('run'); ap.add_argument('pool'); ap.add_argument('--work', default='estimates_images')
    ap.add_argument('--draws', type=int, default=50); ap.add_argument('--n-val', type=int, default=250); ap.add_argument('--n-new', type=int, default=250)
    ap.add_argument('--n-boot', type=int, default=200); ap.add_argument('--no-floor', action='store_true', help='without error_count_floor (the intervals before it)'); ap.add_argument('--shifts', nargs='*', default=list(shifts)); ap.add_argument('--out', default=None)
    a = ap.parse_args()
    run = Path(a.run); learn = load_model(run/'model.pkl'); vocab = [str(v) for v in learn.dls.vocab]
    vp = pd.read_csv(run/'valid_predictions.csv', dtype={'label': str})
    pool = pd.read_csv(a.pool, sep=' ', names=['file', 'label'], dtype={'label': str})
    pool['file'] = [f if os.path.isabs(f) else str(Path(a.pool).parent/Path(a.pool).stem/f) for f in pool.file]
    files = list(vp.file) + list(pool.file)
    if len({Path(f).name for f in files}) != len(files): raise SystemExit('image names must be unique')
    targs = np.array(list(vp.target) + [vocab.index(l) for l in pool.label])
    V = versions(learn, files, Path(a.work))
    rows, rng = [], np.random.default_rng(0)
    for s in a.shifts:
        share, c0, c1 = shifts[s]
        for d in range(a.draws):
            iv, inew = draw(rng, targs, a.n_val, a.n_new, share)
            nt = targs[inew]
            nprobs = np.where((nt == 0)[:, None], V[c0][0][inew], V[c1][0][inew])
            nfeat = np.where((nt == 0)[:, None], V[c0][1][inew], V[c1][1][inew])
            vprobs, vt, vfeat = V['clean'][0][iv], targs[iv], V['clean'][1][iv]
            truth = figures_of(joint_of(nt, predicted_class(nprobs), 2))
            dom = domain_weights(vfeat, nfeat, seed=d)
            res = domain_weights(vfeat, nfeat, label_shift_weights(vprobs, vt, nprobs), seed=d)
            est = estimates_boot(vprobs, vt, nprobs, val_weights=dom['weights'], n_boot=a.n_boot, seed=d, floor=not a.no_floor)
            why = decline_reason(vt, nprobs, res['auc'])
            for m, figs in est.items():
                for f, (v, lo, hi) in figs.items():
                    rows.append(dict(shift=s, draw=d, method=m, figure=f, estimate=v, lo=lo, hi=hi, truth=truth[f], auc=dom['auc'], residual_auc=res['auc'], ess=dom['ess'], declined=why is not None))
        t = pd.DataFrame([r for r in rows if r['shift'] == s])
        print(s, f"domain AUC {t.auc.mean():.2f}, residual {t.residual_auc.mean():.2f}, ESS {t.ess.mean():.0f}, declined {t.groupby('draw').declined.first().mean():.0%}", flush=True)
    df = pd.DataFrame(rows)
    df['covered'] = (df.lo <= df.truth) & (df.truth <= df.hi); df['width'] = df.hi - df.lo; df['error'] = (df.estimate - df.truth).abs()
    if a.out: df.to_csv(a.out, index=False)
    tab = df.groupby(['shift', 'method', 'figure']).agg(coverage=('covered', 'mean'), width=('width', 'mean'), error=('error', 'mean'), declined=('declined', 'mean')).reset_index()
    pd.set_option('display.width', 200); pd.set_option('display.max_rows', 1000)
    print(tab.pivot_table(index=['shift', 'method'], columns='figure', values=['coverage', 'width']).round(2).to_string())
    print(json.dumps(tab.round(4).to_dict('records')))

if __name__ == '__main__': main()
