"""Training throughput of fastcls's cached pipeline, of fastai's per-item pipeline, and of the model alone.

    python bench/throughput.py --n 3000 --size 64 --arch resnet18 --bs 64 [--data DIR] [--batches 20]

Without `--data` it writes (once, then reuses) a synthetic data set in the customer's layout: `train_img/000001.png`...,
RGB PNGs of `--img` pixels (noisy, tinted handwritten digits), `label_train.txt` with about 12% minority images.
On the same images and in one process it measures training images per second, with the same model, loss, optimiser
and training step for all three, so that they differ only by where the batches come from:

(a) fastcls: `cached_dataloaders` (each image decoded once into a uint8 cache; batches are slices of it),
(b) fastai: a plain `DataBlock` with `item_tfms=Resize(size)` (files decoded and resized per item, per epoch),
(c) ceiling: batches already in memory, normalised, on the device (no data pipeline, no augmentation).

(a) and (b) use the same batch augmentation (`aug_transforms` as in `fastcls.data.label_file_block`) and normalisation.
Each pipeline gets `--warmup` untimed batches, then `--batches` timed ones; all three are measured `--repeats` times,
interleaved, and the best of each is kept. The last line is machine-readable.
"""
import argparse, os, resource, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import numpy as np, torch
from PIL import Image

def make_data(dest, n, img=64, minority=0.12, seed=0):
    "Write `n` RGB PNGs of `img` pixels and `label_train.txt` (1 for ~`minority` of them) to `dest`, unless already there"
    from fastcls.datasets import digit_images
    dest = Path(dest)
    if (dest/'label_train.txt').exists() and len((dest/'label_train.txt').read_text().split()) == n: return dest
    (dest/'train_img').mkdir(parents=True, exist_ok=True)
    digits, pos = digit_images(positive=0, size=img)
    rng = np.random.default_rng(seed)
    ys = (rng.random(n) < minority).astype(int)
    pick = np.where(ys == 1, rng.choice(np.flatnonzero(pos == 1), n), rng.choice(np.flatnonzero(pos == 0), n))
    tints, seeds = rng.uniform(0.4, 1.0, (n, 3)), rng.integers(0, 2**31, n)
    def _write(i):
        noise = np.random.default_rng(seeds[i]).normal(0, 12, (img, img, 3))
        a = (digits[pick[i]][..., None] * tints[i] + 40 + noise).clip(0, 255).astype(np.uint8)
        Image.fromarray(a).save(dest/'train_img'/f'{i+1:06d}.png')
    with ThreadPoolExecutor(os.cpu_count()) as ex: list(ex.map(_write, range(n), chunksize=256))
    (dest/'label_train.txt').write_text(''.join(f'{y}\n' for y in ys))
    return dest

def forever(dl):
    "Batches of `dl`, epoch after epoch"
    while True: yield from dl

def measure(batches, step, bs, warmup, k, device):
    "Images per second of `step` over `k` batches drawn from the iterator `batches`, after `warmup` batches"
    def sync():
        if device.type == 'cuda': torch.cuda.synchronize()
    for _ in range(warmup): step(*next(batches))
    sync()
    t = time.perf_counter()
    for _ in range(k): step(*next(batches))
    sync()
    return k * bs / (time.perf_counter() - t)

def peak_rss_mb():
    "Peak resident memory of this process, in MB"
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**20 if sys.platform == 'darwin' else r / 1024

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=3000, help='images in the synthetic data set')
    p.add_argument('--size', type=int, default=64, help='training size')
    p.add_argument('--img', type=int, default=64, help='side of the synthetic images')
    p.add_argument('--arch', default='resnet18', help='timm architecture (random weights)')
    p.add_argument('--bs', type=int, default=64, help='batch size')
    p.add_argument('--data', default=None, help='use this data folder (any fastcls layout) instead of synthetic images')
    p.add_argument('--channels', type=int, default=3, help='1 or 3')
    p.add_argument('--batches', type=int, default=20, help='timed batches per measurement')
    p.add_argument('--warmup', type=int, default=3, help='untimed batches before each measurement')
    p.add_argument('--repeats', type=int, default=2, help='measurements of each pipeline (the best is kept)')
    p.add_argument('--workers', type=int, default=None, help="worker processes of the fastai pipeline (fastai's default when omitted)")
    p.add_argument('--threads', type=int, default=None, help='threads decoding the fastcls cache (all cores when omitted)')
    p.add_argument('--cache', default=None, help='.npy file for the fastcls cache (in memory when omitted)')
    a = p.parse_args()

    from fastai.data.block import DataBlock, CategoryBlock
    from fastai.data.transforms import ColReader, RandomSplitter, Normalize
    from fastai.vision.data import ImageBlock
    from fastai.vision.core import PILImage, PILImageBW
    from fastai.vision.augment import Resize, aug_transforms
    from fastai.torch_core import default_device
    from fastcls.labels import read_labels
    from fastcls.cache import cached_dataloaders
    from fastcls.learner import create_learner

    device = default_device()
    data = Path(a.data) if a.data else make_data(Path(tempfile.gettempdir())/f'fastcls-bench-{a.n}-{a.img}', a.n, a.img)
    df = read_labels(data)
    print(f'{len(df)} images in {data}, {df.label.value_counts().to_dict()}; device {device}, {torch.get_num_threads()} torch threads', flush=True)

    t0 = time.perf_counter()
    dls = cached_dataloaders(df, a.size, channels=a.channels, bs=a.bs, num_workers=a.threads, cache_path=a.cache)
    cache_s = time.perf_counter() - t0
    print(f'cache: {tuple(dls.train.cache.shape)} uint8 in {cache_s:.1f} s, peak memory {peak_rss_mb():.0f} MB', flush=True)
    learn = create_learner(dls, a.arch, pretrained=False)
    model, loss_func = learn.model.to(device).train(), learn.loss_func
    learn.create_opt()
    opt = learn.opt
    norm = next(t for t in dls.after_batch.fs if isinstance(t, Normalize))
    def step(xb, yb):
        loss_func(model(xb), yb).backward()
        opt.step()
        opt.zero_grad()

    aug = aug_transforms(max_rotate=10., max_zoom=1.1, max_warp=0.1)
    plain = DataBlock(blocks=(ImageBlock(PILImageBW if a.channels == 1 else PILImage), CategoryBlock),
                      get_x=ColReader('file'), get_y=ColReader('label'), splitter=RandomSplitter(0.2, seed=42),
                      item_tfms=Resize(a.size), batch_tfms=[*aug, Normalize(norm.mean.cpu(), norm.std.cpu())])
    kw = {} if a.workers is None else {'num_workers': a.workers}
    fdls = plain.dataloaders(df, bs=a.bs, device=device, **kw)

    def in_memory():
        "A few normalised batches taken from the cache, on the device, over and over"
        idx = torch.randperm(len(dls.train.rows))[:4 * a.bs].view(4, a.bs)
        xs = [(dls.train.cache[dls.train.rows[i]].to(device).float() / 255 - norm.mean) / norm.std for i in idx]
        bs = [(x, dls.train.ys[i].to(device)) for x, i in zip(xs, idx)]
        while True: yield from bs

    runs = dict(ceiling=in_memory, fastcls=lambda: forever(dls.train), fastai=lambda: forever(fdls.train))
    best = dict.fromkeys(runs, 0.)
    for r in range(a.repeats):
        for name, batches in runs.items():
            best[name] = max(best[name], v := measure(batches(), step, a.bs, a.warmup, a.batches, device))
            print(f'repeat {r+1}: {name:8s} {v:7.1f} img/s', flush=True)
    print(f"fastcls_img_s={best['fastcls']:.1f} fastai_img_s={best['fastai']:.1f} ceiling_img_s={best['ceiling']:.1f} "
          f"ratio_ceiling={best['fastcls'] / best['ceiling']:.3f} ratio_fastai={best['fastcls'] / best['fastai']:.3f} "
          f"cache_s={cache_s:.1f} peak_rss_mb={peak_rss_mb():.0f}")

if __name__ == '__main__': main()
