"""One command that checks fastcls's training paths on this machine: on a GPU all of them, on a CPU those a CPU can run.

    python bench/gpu_check.py [--out DIR] [--keep]      (or bench/gpu_check.sh)

It brings its own tiny data (scikit-learn's digits, written by `make_digits`), trains from scratch (no download) and
prints one line per check: `PASS`, `FAIL` or `SKIP`, the check's name, its figure and the seconds it took; `SKIP` says
why. The exit status is 1 when any check fails. On a CPU it takes about two minutes and skips the GPU-only checks
(bf16, fp16, two GPUs under `accelerate launch`), so CI runs it; on one GPU the data are larger and it runs them all.

Checks: the digits demo; a folder of 64 px RGB images; `--loss focal`; efficientnet and convnext; each precision the
machine has (fp16/bf16 on a GPU; on a CPU, that they are refused with a clear message); a run stopped after its first
epoch and resumed, against the same run not stopped (on a CPU the histories must match to 4 decimals, on a GPU closely);
the ONNX export's probabilities against the trained model's; `bench/throughput.py` (images per second against the
model-only ceiling); and, with two or more GPUs, a short run under `accelerate launch`.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time
from contextlib import redirect_stdout, redirect_stderr
from pathlib import Path
import numpy as np, pandas as pd, torch

HERE = Path(__file__).resolve().parent
results, log, only = [], None, None  # the runs' own output goes to `log`, a file beside the data

def check(name):
    "Run the decorated check now; record PASS (with its figure), FAIL (with the error) or SKIP (with the reason)"
    def _run(f):
        if only and only not in name: return f
        t0 = time.time()
        try:
            with redirect_stdout(log), redirect_stderr(log): status, figure = f()
        except Exception as e:
            status, figure = 'FAIL', f'{type(e).__name__}: {str(e)[:300]}'
        line = f'{status:4s}  {name:24s} {figure}  ({time.time() - t0:.0f} s)'
        print(line, flush=True)
        results.append(status)
        return f
    return _run

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default=None, help='folder for the data and runs (a temporary one when not given)')
    p.add_argument('--keep', action='store_true', help='keep that folder')
    p.add_argument('--only', default=None, help='run only the checks whose name holds this')
    a = p.parse_args()
    global only
    only = a.only
    from fastai.callback.core import Callback
    from fastcls.datasets import make_digits
    from fastcls.distributed import use_cuda
    from fastcls.train import train
    from fastcls.export import export_model
    from fastcls.onnx_predict import onnx_session, onnx_probs
    from fastcls.predict import load_model, predict_files
    from fastcls.labels import image_files
    gpu = use_cuda()
    tmp = Path(a.out or tempfile.mkdtemp(prefix='gpu_check_'))
    tmp.mkdir(parents=True, exist_ok=True)
    global log
    log = open(tmp/'gpu_check.log', 'w')
    n, epochs, size = (1617, 3, 64) if gpu else (200, 1, 32)  # a CPU runs the same paths on less
    kw = dict(out=tmp/'runs', pretrained=False, progress=False, num_workers=0, bs=32, size=size, lr=2e-3)
    print(f"device: {torch.cuda.get_device_name(0) if gpu else 'CPU'} ({torch.cuda.device_count() if gpu else 0} GPUs), torch {torch.__version__}; "
          f"{n} digits at {size} px, {epochs} epochs a run; data and runs in {tmp}", flush=True)
    digits = make_digits(tmp/'digits', n=n, n_val=60, size=32)
    def _learned(r): return r.roc_auc >= 0.9 if gpu else bool(np.isfinite(r.roc_auc) and np.isfinite(r.hter))  # a CPU's single epoch on 200 images checks the path; learning is the notebooks' test (05d_train)
    runs = {}

    @check('cuda notebook tests')
    def _():
        flagged = [nb.name for nb in sorted((HERE.parent/'nbs').glob('*.ipynb')) if '#| cuda' in nb.read_text()]
        if not flagged: return 'SKIP', 'no notebook has a `#| cuda` cell yet'
        if not gpu: return 'SKIP', f"needs a GPU ({', '.join(flagged)})"
        r = subprocess.run(['nbdev-test', '--flags', 'cuda', '--file-re', '|'.join(f.removesuffix('.ipynb') for f in flagged)], capture_output=True, text=True, cwd=HERE.parent)
        return ('PASS' if r.returncode == 0 else 'FAIL'), (r.stdout + r.stderr).strip().splitlines()[-1][:200]

    @check('digits demo')
    def _():
        r = runs['demo'] = train(digits, name='demo', epochs=epochs, **kw)
        return ('PASS' if _learned(r) else 'FAIL'), f'AUC {r.roc_auc:.3f}, HTER {r.hter:.3f}, {r.n_predictions} predictions'

    @check('64 px RGB folder')
    def _():
        d = make_digits(tmp/'rgb64', layout='folders', n=n, n_val=0, size=64, rgb=True)
        r = train(d, name='rgb64', epochs=epochs, **{**kw, 'size': 64})
        return ('PASS' if _learned(r) else 'FAIL'), f'AUC {r.roc_auc:.3f}, channels {json.loads((Path(r.run)/"settings.json").read_text())["channels"]}'

    @check('loss focal')
    def _():
        r = train(digits, name='focal', loss='focal', epochs=epochs, **kw)
        return ('PASS' if _learned(r) else 'FAIL'), f'AUC {r.roc_auc:.3f}'

    for arch in ('efficientnet_b0', 'convnext_atto'):
        @check(arch)
        def _():
            r = train(digits, name=arch, arch=arch, epochs=epochs, **kw)
            return ('PASS' if _learned(r) else 'FAIL'), f'AUC {r.roc_auc:.3f}'

    for prec in ('bf16', 'fp16'):
        @check(f'precision {prec}')
        def _():
            if not gpu:
                try: train(digits, name=f'p_{prec}', precision=prec, epochs=1, **kw)
                except Exception as e:
                    ok = 'needs a GPU' in str(e) and not (tmp/'runs'/f'p_{prec}').exists()
                    return ('PASS' if ok else 'FAIL'), f'refused on a CPU before a run folder was made: "{str(e)[:70]}..."'
                return 'FAIL', 'a CPU trained in ' + prec
            if prec == 'bf16' and not torch.cuda.is_bf16_supported(): return 'SKIP', 'this GPU has no bf16'
            r = train(digits, name=f'p_{prec}', precision=prec, epochs=epochs, **kw)
            s = json.loads((Path(r.run)/'settings.json').read_text())
            return ('PASS' if s['precision'] == prec and _learned(r) else 'FAIL'), f"AUC {r.roc_auc:.3f} in {s['precision']}"

    @check('stop and resume')
    def _():
        class _Stop(Callback):
            order = 99  # after the epoch's checkpoint
            def after_epoch(self):
                if self.epoch == 0: raise KeyboardInterrupt
        k2 = {**kw, 'lr': 2e-3, **({'precision': 'fp16'} if gpu else {})}  # fp16 on a GPU: its loss scaler must resume too
        whole = train(digits, name='whole', epochs=2, **k2)
        try: train(digits, name='stopped', epochs=2, cbs=[_Stop()], **k2)
        except KeyboardInterrupt: pass
        resumed = train(None, resume=tmp/'runs'/'stopped')
        ha, hb = (pd.read_csv(Path(r.run)/'history.csv').valid_loss.to_numpy() for r in (whole, resumed))
        diff = float(np.abs(ha - hb).max())
        sc = [Path(r.run)/'models'/'epoch-train-1'/'scaler.pth' for r in (whole, resumed)]
        sa, sb = (torch.load(f, weights_only=False) if f.exists() else None for f in sc)
        ok = len(ha) == len(hb) == 2 and diff < (1e-4 if not gpu else 5e-2) and sa == sb and (sa is not None) == gpu
        return ('PASS' if ok else 'FAIL'), (f'largest difference of the validation losses {diff:.2e} (2 epochs, stopped after the first)'
                                            + (f"; loss scaler {sa and sa.get('scale')}/{sa and sa.get('_growth_tracker')} uninterrupted, {sb and sb.get('scale')}/{sb and sb.get('_growth_tracker')} resumed" if gpu else ''))

    @check('onnx export parity')
    def _():
        run = Path(runs['demo'].run)
        o = export_model(run)
        files = image_files(digits/'val_img')
        pf = predict_files(load_model(run/'model.pkl'), files)
        po = onnx_probs(onnx_session(o), files)
        diff = float(np.abs(np.asarray(pf) - np.asarray(po)).max())
        return ('PASS' if diff < (1e-3 if not gpu else 1e-2) else 'FAIL'), f'largest probability difference {diff:.1e} on {len(files)} images'

    @check('throughput')
    def _():
        args = ['--size', '64', '--batches', '20'] if gpu else ['--size', '32', '--bs', '32', '--batches', '4', '--warmup', '1', '--repeats', '1']
        r = subprocess.run([sys.executable, str(HERE/'throughput.py'), *args, '--data', str(digits)], capture_output=True, text=True)
        last = (r.stdout.strip().splitlines() or [''])[-1]
        if r.returncode or 'fastcls_img_s=' not in last: return 'FAIL', f'exit {r.returncode}: ' + ' | '.join(r.stderr.strip().splitlines()[-3:])[-300:]
        return 'PASS', last[:200]

    @check('accelerate launch, 2 GPUs')
    def _():
        if torch.cuda.device_count() < 2: return 'SKIP', 'needs two GPUs; two gloo processes on the CPU are tested in 09_cli'
        launch = [str(Path(sys.executable).parent/'accelerate'), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no',
                  str(Path(sys.executable).parent/'fastcls_train'), str(digits), '--name', 'ddp', '--no-pretrained', '--epochs', str(epochs), '--size', str(size), '--out', str(tmp/'runs')]
        r = subprocess.run(launch, capture_output=True, text=True)
        m = tmp/'runs'/'ddp'/'metrics.json'
        if r.returncode or not m.exists(): return 'FAIL', (r.stdout + r.stderr).strip()[-300:]
        return 'PASS', f"AUC {json.loads(m.read_text())['roc_auc']:.3f} under 2 processes, with EMA"

    n_fail = results.count('FAIL')
    log.close()
    if n_fail: print(f'the runs wrote their output to {tmp}/gpu_check.log', flush=True)
    elif not a.keep and not a.out: shutil.rmtree(tmp, ignore_errors=True)
    print(f"gpu_check: {results.count('PASS')} passed, {n_fail} failed, {results.count('SKIP')} skipped", flush=True)
    sys.exit(1 if n_fail else 0)

if __name__ == '__main__': main()
