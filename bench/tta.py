"""Flip test-time augmentation against plain prediction, on a run's own validation images: AUC and HTER of each, and the paired difference.

    python bench/tta.py RUN [RUN ...]

For each run folder, it loads `model.pkl`, predicts the images of `valid_predictions.csv` as they are and averaged with
the flips the training used (`predict_files(..., tta=True)`), and compares the two on the same images with fastcls's
paired stratified bootstrap. The last line is machine-readable.
"""
import argparse, json, time
import pandas as pd
from fastcls.predict import load_model, predict_files
from fastcls.metrics import paired_bootstrap
from fastcls.recipe import tta_flips

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('runs', nargs='+')
    rows = []
    for run in ap.parse_args().runs:
        vp = pd.read_csv(f'{run}/valid_predictions.csv', dtype={'label': str})
        learn = load_model(f'{run}/model.pkl')
        with learn.no_bar():
            t0 = time.perf_counter(); plain = predict_files(learn, vp.file); t1 = time.perf_counter()
            tta = predict_files(learn, vp.file, tta=True); t2 = time.perf_counter()
        c = paired_bootstrap(plain, tta, vp.target.values)
        for k, v in c.items():
            print(f"{run}: {k} plain {v['a']:.4f}, flip TTA {v['b']:.4f}, difference {v['difference']:+.4f} [{v['lo']:+.4f}, {v['hi']:+.4f}], p={v['p_value']:.3f}")
        rows.append(dict(run=run, flips=str(tta_flips(learn.dls)), n=len(vp), seconds_plain=round(t1 - t0, 1), seconds_tta=round(t2 - t1, 1),
                         **{f'{k}_{s}': round(v[s], 4) for k, v in c.items() for s in ('a', 'b', 'difference', 'lo', 'hi', 'p_value')}))
    print(json.dumps(rows))

if __name__ == '__main__': main()
