"""Which epoch should a run keep? Rules for the kept epoch compared on images they did not choose with.

    python bench/monitor.py DATA --name NAME [--out DIR] [--seed 0] [-- train options, e.g. --no-pretrained --size 32]
    python bench/monitor.py --analyse DIR/NAME.npz [...] [--splits 200]

The first form trains one run of `fastcls_train DATA` (its defaults, or the options after --) with a callback that keeps
every epoch's validation probabilities (DIR/NAME.npz). The second compares rules for the kept epoch on those saved
trajectories by cross-fitting: the validation images are split in two halves, stratified by class, `--splits` times; each
rule picks its epoch from the figures of one half, and the picked epoch is scored on the other half (and the other way
round): HTER at the threshold 0.5 (the customer's fixed rule) and AUC. The table gives, per data set and rule, the mean
and standard deviation over the splits, and the paired difference against 'auc' (fastcls's monitor before this bench, ties broken by HTER)
with how often the rule is better, equal or worse. The last line is machine-readable (JSON rows).

Rules: auc, hter, valid_loss (cross-entropy), last (the final epoch), auc_hter (the mean of AUC and 1 - HTER: ranking
and the decision at 0.5 weighed alike).
"""
import argparse, json, sys
from pathlib import Path
import numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedShuffleSplit

def hter(p, y, threshold=0.5):
    "Half total error rate of positive-class probabilities `p` (shape (n,)) at `threshold`"
    pred = p >= threshold
    return 0.5 * ((pred[y == 0]).mean() + (~pred[y == 1]).mean())

def figures(P, y):
    "Per epoch: AUC, HTER at 0.5 and cross-entropy of the (epochs, n, 2) probabilities `P` on labels `y`"
    p1 = P[..., 1]
    auc = np.array([roc_auc_score(y, p) for p in p1])
    ht = np.array([hter(p, y) for p in p1])
    ce = -np.log(np.clip(P[:, np.arange(len(y)), y], 1e-12, None)).mean(1)
    return dict(auc=auc, hter=ht, valid_loss=ce)

def kept(val, tie, comp, tie_comp):
    "The epoch RunKeeper keeps for per-epoch monitor values `val` and tie-breakers `tie` (fastcls.callbacks.is_better: ties at 3 decimals)"
    from fastcls.callbacks import is_better
    best, best_tie, e = (np.inf if comp is np.less else -np.inf), (np.inf if tie_comp is np.less else -np.inf), 0
    for i, (v, t) in enumerate(zip(val, tie)):
        if is_better(float(v), float(t), best, best_tie, comp, tie_comp): best, best_tie, e = v, t, i
    return e

rules = dict(auc=lambda f: kept(f['auc'], f['hter'], np.greater, np.less), hter=lambda f: kept(f['hter'], f['valid_loss'], np.less, np.less),
             valid_loss=lambda f: kept(f['valid_loss'], f['hter'], np.less, np.less), last=lambda f: len(f['auc']) - 1,
             auc_hter=lambda f: kept(f['auc'] + 1 - f['hter'], f['valid_loss'], np.greater, np.less))  # as RunKeeper keeps them, ties at 3 decimals broken as fastcls breaks them

def analyse(paths, n_splits=200, seed=0):
    "Rows of (data, split, rule, HTER and AUC on the other half) over cross-fitted half splits of each saved trajectory"
    rows = []
    for path in paths:
        z = np.load(path)
        P, y = z['probs'].astype(float), z['targets'].astype(int)
        sss = StratifiedShuffleSplit(n_splits=n_splits, test_size=0.5, random_state=seed)
        for s, (a, b) in enumerate(sss.split(np.zeros(len(y)), y)):
            for pick, score in ((a, b), (b, a)):
                fa, fb = figures(P[:, pick], y[pick]), figures(P[:, score], y[score])
                for name, rule in rules.items():
                    e = int(rule(fa))
                    rows.append(dict(data=Path(path).stem, split=s, rule=name, epoch=e, hter=fb['hter'][e], auc=fb['auc'][e]))
    return pd.DataFrame(rows)

def table(df):
    "Mean (sd) per data set and rule, and the paired difference against 'auc'"
    g = df.groupby(['data', 'split', 'rule'])[['hter', 'auc', 'epoch']].mean().reset_index()  # the two directions of a split averaged
    base = g[g.rule == 'auc'].set_index(['data', 'split'])
    out = []
    for (d, r), t in g.groupby(['data', 'rule']):
        t = t.set_index(['data', 'split'])
        dh, da = t.hter - base.hter.loc[t.index], t.auc - base.auc.loc[t.index]
        out.append(dict(data=d, rule=r, hter=f"{t.hter.mean():.4f} ({t.hter.std():.4f})", auc=f"{t.auc.mean():.4f} ({t.auc.std():.4f})",
                        epoch=f"{t.epoch.mean():.1f}", d_hter=f"{dh.mean():+.4f} ({dh.std():.4f})", d_auc=f"{da.mean():+.4f} ({da.std():.4f})",
                        hter_better_same_worse=f"{(dh < -1e-9).mean():.2f}/{(dh.abs() <= 1e-9).mean():.2f}/{(dh > 1e-9).mean():.2f}"))
    return pd.DataFrame(out)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('data', nargs='?'); ap.add_argument('--name'); ap.add_argument('--out', default='monitor_runs'); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--analyse', nargs='+'); ap.add_argument('--splits', type=int, default=200)
    a, rest = ap.parse_known_args()
    if a.analyse:
        df = analyse(a.analyse, a.splits)
        t = table(df)
        with pd.option_context('display.width', 250, 'display.max_columns', 20): print(t.to_string(index=False))
        print(json.dumps(t.to_dict('records')))
        return
    from fastai.callback.core import Callback
    from fastcls.train import train
    class _EpochProbs(Callback):
        "Every epoch's validation probabilities of the fit, in the validation loader's order (fastai's get_preds and validate also send before_fit and after_epoch, but no before_train)"
        order = 60
        def __init__(self): self.epochs, self.trained = [], False
        def before_train(self): self.trained = True
        def before_validate(self): self.ps, self.ys = [], []
        def after_batch(self):
            if self.trained and not self.training: self.ps.append(self.pred.float().softmax(-1).cpu()); self.ys.append(self.yb[0].cpu())
        def after_epoch(self):
            if self.trained and self.ys: self.epochs.append((np.concatenate([p.numpy() for p in self.ps]), np.concatenate([y.numpy() for y in self.ys])))
            self.trained = False
    kw = {}
    it = iter(o for o in rest if o != '--')
    for o in it:  # --no-x flags, and --key value options of fastcls_train, as train's keyword arguments
        k = o.lstrip('-').replace('-', '_')
        if k.startswith('no_'): kw[k[3:]] = False
        else:
            v = next(it)
            try: v = json.loads(v)
            except ValueError: pass
            kw[k] = v
    cb = _EpochProbs()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    r = train(a.data, out=out, name=a.name, seed=a.seed, cbs=[cb], **kw)
    eps = cb.epochs[:len(pd.read_csv(Path(r.run)/'history.csv'))]  # evaluations after the fit come last
    probs, targs = np.stack([e[0] for e in eps]), eps[-1][1]
    np.savez_compressed(out/f'{a.name}.npz', probs=probs, targets=targs)
    print(f"{len(eps)} epochs of {len(targs)} validation probabilities kept in {out/(a.name + '.npz')}; the run kept AUC {r.roc_auc:.4f}, HTER {r.hter:.4f}")

if __name__ == '__main__': main()
