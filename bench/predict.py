"""Images per second and peak memory of prediction: fastai's model against its ONNX export (float and int8), end to end and alone.

    python bench/predict.py --n 2000 --size 64 [--arch resnet18] [--bs 64] [--quantize none|int8] [--dest /tmp/fastcls-bench-predict]

It trains a small run (three epochs on 200 digits, `pretrained=False`: the weights do not change the speed), exports it with
`export_onnx` (float, and int8 calibrated on the run's validation images), writes `--n` PNG images of `--size` pixels, and times,
each in a fresh process (so that each peak RSS is its own):
(a) `fastcls_predict RUN IMAGES` with the fastai model (`load_model`, `predict_files`, `write_predictions`),
(b) `fastcls_predict MODEL.onnx IMAGES` (`predict_onnx`: threaded decoding, onnxruntime, the same files written), float and int8,
(c) the ONNX session alone on the images already decoded in memory (the ceiling of (b)), float and int8,
(d) `fastcls_predict MODEL.pt IMAGES` (`predict_torchscript`: the same decoding, the TorchScript export run by torch alone).
The last line is machine-readable, for the ONNX model `--quantize` names (float by default): ratio_fastai = (b) / (a),
ratio_ceiling = (b) / (c), peak_rss_mb = the peak RSS of (b); the line before it is the same for the other ONNX model.
"""
import argparse, json, os, re, resource, shutil, subprocess, sys, time
from pathlib import Path

def _rss_mb()->float:
    "Peak resident memory of this process in MB (`VmHWM`: `ru_maxrss` would count the parent's, inherited across fork and exec)"
    try: return int(re.search(r'VmHWM:\s+(\d+) kB', Path('/proc/self/status').read_text())[1]) / 1024
    except (OSError, TypeError): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def phase(name, run, images, bs):
    "Run one measurement in this process and print a JSON line: images/s and peak RSS"
    import numpy as np
    if name == 'fastai':
        from fastcls.predict_cli import predict
        t0 = time.perf_counter(); df = predict(str(run), str(images), out=str(run/'fastai_label_val.txt'), csv=str(run/'fastai_predictions.csv'), bs=bs)
    elif name in ('onnx', 'onnx-int8'):
        from fastcls.onnx_predict import predict_onnx
        m, tag = (run/'model.onnx', 'onnx') if name == 'onnx' else (run/'model.int8.onnx', 'int8')
        t0 = time.perf_counter(); df = predict_onnx(m, images, run/f'{tag}_label_val.txt', run/f'{tag}_predictions.csv', bs=bs, progress=False)
    elif name == 'torchscript':
        from fastcls.onnx_predict import predict_torchscript
        t0 = time.perf_counter(); df = predict_torchscript(run/'model.pt', images, run/'ts_label_val.txt', run/'ts_predictions.csv', bs=bs, progress=False)
    else:
        from fastcls.labels import image_files
        from fastcls.onnx_predict import onnx_session, onnx_metadata, decode_image
        sess = onnx_session(run/('model.onnx' if name == 'ceiling' else 'model.int8.onnx')); m = onnx_metadata(sess)
        x = np.stack([decode_image(f, m['size'], m['crop'], m['channels']) for f in image_files(images)])
        sess.run(None, {'images': x[:bs]})  # warm-up
        t0 = time.perf_counter()
        df = np.concatenate([sess.run(None, {'images': x[i:i + bs]})[0] for i in range(0, len(x), bs)])
    s = time.perf_counter() - t0
    print(json.dumps(dict(phase=name, n=len(df), seconds=s, img_s=len(df) / s, peak_rss_mb=_rss_mb())))

def prepare(dest, n, size, arch):
    "A tiny trained and exported run, and `n` images of `size` pixels to predict"
    from PIL import Image
    from fastcls.datasets import make_digits, digit_images
    from fastcls.train import train
    from fastcls.export import export_onnx, export_torchscript
    dest = Path(dest)
    if dest.exists(): shutil.rmtree(dest)
    data = make_digits(dest/'data', n=200, n_val=0, size=size)  # 40 validation images: 20 calibrate the int8 model, 20 check it
    r = train(data, out=dest/'runs', name='bench', arch=arch, pretrained=False, epochs=3, bs=32, size=size, lr=3e-3, progress=False, num_workers=0)
    export_onnx(r.run); export_onnx(r.run, quantize='int8'); export_torchscript(r.run)
    imgs, _ = digit_images(0, size)
    (dest/'images').mkdir()
    for i in range(n): Image.fromarray(imgs[i % len(imgs)]).save(dest/'images'/f'{i:06d}.png')
    return Path(r.run), dest/'images'

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=2000); ap.add_argument('--size', type=int, default=64)
    ap.add_argument('--arch', default='resnet18'); ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--dest', default='/tmp/fastcls-bench-predict')
    ap.add_argument('--quantize', default='none', choices=['none', 'int8'], help='the ONNX model of the last line')
    ap.add_argument('--phase', default=None, help=argparse.SUPPRESS); ap.add_argument('--run', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--images', default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.phase: return phase(a.phase, Path(a.run), Path(a.images), a.bs)
    run, images = prepare(a.dest, a.n, a.size, a.arch)
    res = {}
    for p in ('fastai', 'onnx', 'ceiling', 'onnx-int8', 'ceiling-int8', 'torchscript'):
        out = subprocess.run([sys.executable, __file__, '--phase', p, '--run', str(run), '--images', str(images), '--bs', str(a.bs)],
                             capture_output=True, text=True, check=True).stdout
        res[p] = json.loads(out.strip().splitlines()[-1])
        print(f"{p:12s} {res[p]['img_s']:8.0f} images/s  {res[p]['seconds']:6.2f} s  peak RSS {res[p]['peak_rss_mb']:.0f} MB")
    import pandas as pd
    labels = {p: (run/f'{p}_label_val.txt').read_text() for p in ('fastai', 'onnx', 'int8', 'ts')}
    same = labels['fastai'] == labels['onnx'] == labels['ts']
    agree = sum(x == y for x, y in zip(labels['fastai'].splitlines(), labels['int8'].splitlines())) / a.n
    probs = {p: pd.read_csv(run/f'{p}_predictions.csv').filter(like='prob_').values for p in ('fastai', 'onnx', 'int8', 'ts')}
    diff = {p: abs(probs[p] - probs['fastai']).max() for p in ('onnx', 'ts', 'int8')}
    mb = lambda f: (run/f).stat().st_size / 2**20
    print(f"{a.n} images of {a.size} px, {a.arch}, {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.2f}); label files of fastai, ONNX and TorchScript identical: {same} "
          f"({sum(l == '1' for l in labels['fastai'].splitlines())} predicted positive); largest difference from fastai's probabilities: "
          f"ONNX {diff['onnx']:.1e}, TorchScript {diff['ts']:.1e}, int8 {diff['int8']:.3f}; int8 labels equal to fastai's: {agree:.2%}; files: ONNX {mb('model.onnx'):.1f} MB, int8 {mb('model.int8.onnx'):.1f} MB, TorchScript {mb('model.pt'):.1f} MB")
    f, t = res['fastai']['img_s'], res['torchscript']['img_s']
    print(f"torchscript_img_s={t:.1f} ratio_fastai={t / f:.2f}")
    def line(onnx, ceiling): return (f"fastai_img_s={f:.1f} onnx_img_s={res[onnx]['img_s']:.1f} ceiling_img_s={res[ceiling]['img_s']:.1f} "
                                     f"ratio_fastai={res[onnx]['img_s'] / f:.2f} ratio_ceiling={res[onnx]['img_s'] / res[ceiling]['img_s']:.2f} peak_rss_mb={res[onnx]['peak_rss_mb']:.0f}")
    lines = dict(none=line('onnx', 'ceiling'), int8=line('onnx-int8', 'ceiling-int8'))
    other = 'int8' if a.quantize == 'none' else 'none'
    print(f"({'float' if other == 'none' else 'int8'}) {lines[other]}")
    print(lines[a.quantize])

if __name__ == '__main__': main()
