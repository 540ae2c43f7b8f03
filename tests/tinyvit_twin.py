#!/usr/bin/python3
"""PyTorch side of tests/test_tinyvit_twin.sh: kdlab's TinyViT against TinyViT's own code.

Run with /usr/bin/python3 (Debian's python3-torch). The model is tools/torch_tinyvit.py (the
official modules, names and forwards), built from the model.* lines bin/export stores in the
file's __metadata__, and loaded with load_state_dict(strict=True) (the index buffers
attention_bias_idxs are not persistent, as in TinyViT). Arrays are raw little-endian files:
images (N, H, W, C) float32 as kdlab reads them, labels (N) int32, logits (N, classes) float32.

Subcommands:
  data IMAGES LABELS --n N      the first N Fashion-MNIST test images and their labels
  logits WEIGHTS IMAGES OUT     eval-mode logits of a TinyViT weights file
  random LIKE IMAGES OUT --seed S
                                a TinyViT of LIKE's shape with every weight random (attention
                                biases, norms and BatchNorm affines included), its BatchNorm
                                statistics those of the images
  compare A B TOL               max |A - B| over max(1, max |B|); exit 1 above TOL
  step WEIGHTS IMAGES LABELS KD_LOGITS KD_STATE [--tol T]
                                one training-mode forward and backward of all the images as one
                                batch (BatchNorm on batch statistics), cross-entropy, against
                                bin/predict --train: the loss (KD_STATE's kdlab.loss), logits,
                                every tensor's gradient and the running statistics the forward
                                moved; exit 1 when one differs by more than TOL (relative)
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import torch_vit as tv  # noqa: E402  (safetensors reader and writer, Fashion-MNIST)

torch = tv.torch
if torch is not None:
    import torch.nn.functional as F
    from torch_tinyvit import TinyViT

# kdlab config key -> TinyViT argument
KEYS = {"img": "img_size", "in_ch": "in_chans", "classes": "num_classes",
        "stage_dims": "embed_dims", "stage_depths": "depths", "stage_heads": "num_heads",
        "windows": "window_sizes", "mlp_ratio": "mlp_ratio", "drop_path": "drop_path_rate"}


def tinyvit_args(meta):
    """TinyViT's arguments from the kdlab.config lines of an export's __metadata__."""
    out = {}
    for line in meta.get("kdlab.config", "").splitlines():
        k, _, v = line.partition(":")
        k, v = k.strip().removeprefix("model."), v.strip()
        if k == "arch" and v != "tinyvit":
            sys.exit(f"tinyvit_twin: the file holds a model.arch {v}, not a tinyvit")
        if k not in KEYS:
            continue
        num = float if k in ("mlp_ratio", "drop_path") else int
        vals = [num(float(x)) for x in v.strip("[]").split(",")]
        out[KEYS[k]] = vals if v.startswith("[") else vals[0]
    return out


def load(path):
    """The TinyViT of a weights file, strictly loaded, and its arguments and metadata."""
    tensors, meta = tv.st_read(path)
    args = tinyvit_args(meta)
    model = TinyViT(**args)
    model.load_state_dict(tensors, strict=True)
    return model, args, meta


def read(path, dtype, *shape):
    raw = bytearray(open(path, "rb").read())
    return torch.frombuffer(raw, dtype=dtype).reshape(*shape)


def read_images(path, args):
    """(N, H, W, C) images as kdlab reads them, as torch's (N, C, H, W)."""
    img, ch = args.get("img_size", 28), args.get("in_chans", 1)
    return read(path, torch.float32, -1, img, img, ch).permute(0, 3, 1, 2)


def write(path, t):
    open(path, "wb").write(t.detach().contiguous().numpy().tobytes())


def cmd_data(a):
    x, y = tv.fmnist_test(a.n)
    write(a.images, x)
    write(a.labels, y.to(torch.int32))


def cmd_logits(a):
    model, args, _ = load(a.weights)
    with torch.no_grad():
        write(a.out, model.eval()(read_images(a.images, args)))


def randomize(model, seed):
    """Norm and BN weights 1 + 0.2 N(0, 1), the attention biases N(0, 1), other biases 0.2 N(0,
    1), convolutions and linears torch's init of that seed."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.named_parameters():
            r = torch.randn(t.shape, generator=g)
            if name.endswith("attention_biases"):
                t.copy_(r)
            elif t.ndim == 1 and name.endswith("weight"):
                t.copy_(1 + 0.2 * r)
            elif name.endswith("bias"):
                t.copy_(0.2 * r)


def cmd_random(a):
    """A random TinyViT whose BatchNorm statistics are those of the images (one training-mode
    pass, momentum 1), so that each branch keeps its weight in the eval-mode output."""
    _, meta = tv.st_read(a.like)
    args = tinyvit_args(meta)
    torch.manual_seed(a.seed)
    model = TinyViT(**args)
    randomize(model, a.seed)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in bns:
        m.momentum = 1.0
    with torch.no_grad():
        model.train()(read_images(a.images, args))
    for m in bns:
        m.momentum = 0.1
    tv.st_write(a.out, model.state_dict(), meta)


def cmd_compare(a):
    x = read(a.a, torch.float32, -1)
    y = read(a.b, torch.float32, -1)
    scale = max(1.0, y.abs().max().item())
    d = (x - y).abs().max().item()
    print(f"max |logit difference| {d:.3g} over {y.numel()} logits of scale {scale:.3g}")
    sys.exit(0 if d <= a.tol * scale else 1)


def torch_state(model):
    """What bin/predict --train writes: each parameter's gradient, each buffer's value."""
    out = {k: p.grad for k, p in model.named_parameters()}
    out.update({k: b.float() for k, b in model.named_buffers() if k in model.state_dict()})
    return out


def floors(state):
    """The scale below which a tensor's difference is measured against a floor instead: a
    gradient against 1e-3 of the largest one (a stage's last mlp.fc2.bias gradient is zero in
    exact arithmetic: the patch merging after it normalizes over the batch, so the gradient
    into it sums to zero per channel, and only rounding is left); a running mean against its
    channels' spread (sqrt of the largest running variance: float32 means of O(1) activations
    near zero differ in their last bits)."""
    top = max(v.abs().max().item() for k, v in state.items() if ".bn.running" not in k)
    out = {}
    for k, v in state.items():
        if k.endswith("running_mean"):
            out[k] = state[k[:-4] + "var"].max().item() ** 0.5
        elif k.endswith(("running_var", "num_batches_tracked")):
            out[k] = 1e-12
        else:
            out[k] = 1e-3 * top
    return out


def rel_err(a, b, floor):
    return (a - b).abs().max().item() / max(b.abs().max().item(), floor)


def report(kd_state, ours, tol):
    """Each tensor's relative difference; the largest of each kind printed; failures listed."""
    fails = []
    if set(ours) != set(kd_state):
        fails.append(f"tensor names differ: {sorted(set(ours) ^ set(kd_state))[:4]}")
    floor = floors(ours)
    errs = sorted(((rel_err(kd_state[k], ours[k], floor[k]), k) for k in ours if k in kd_state),
                  reverse=True)
    for what, bn in (("gradient", False), ("BatchNorm buffer", True)):
        rows = [(e, k) for e, k in errs if (".bn.running" in k or "num_batches" in k) == bn]
        print(f"{len(rows)} tensors, {what}s: largest relative difference {rows[0][0]:.3g} "
              f"({rows[0][1]})")
        fails += [f"{what} {k}: relative difference {e:.3g}" for e, k in rows if not e <= tol]
    return fails


def kdlab_momentum(model):
    """kdlab's documented BatchNorm update (core/nn/conv_bn.c): momentum max(0.1, 1 / (batches
    so far + 1)), a plain average over the first batches, then torch's 0.1."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = max(0.1, 1.0 / (m.num_batches_tracked.item() + 1))


def cmd_step(a):
    model, args, _ = load(a.weights)
    kdlab_momentum(model)
    x = read_images(a.images, args)
    y = read(a.labels, torch.int32, -1).long()
    logits = model.train()(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    kd_state, meta = tv.st_read(a.kd_state)
    kd_logits = read(a.kd_logits, torch.float32, *logits.shape)
    d_loss = abs(float(meta["kdlab.loss"]) - loss.item()) / max(1.0, loss.item())
    d_logits = rel_err(kd_logits, logits.detach(), 1.0)
    print(f"training step on {len(x)} images: loss {loss.item():.6f}, relative difference "
          f"{d_loss:.3g}; logits {d_logits:.3g}")
    fails = [] if d_loss <= a.tol and d_logits <= a.tol else ["loss or logits"]
    fails += report(kd_state, torch_state(model), a.tol)
    for f in fails[:8]:
        print(f"tinyvit_twin: FAIL: {f}", file=sys.stderr)
    sys.exit(1 if fails else 0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("data")
    s.add_argument("images"), s.add_argument("labels"), s.add_argument("--n", type=int, default=64)
    s = sub.add_parser("logits")
    s.add_argument("weights"), s.add_argument("images"), s.add_argument("out")
    s = sub.add_parser("random")
    s.add_argument("like"), s.add_argument("images"), s.add_argument("out")
    s.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("compare")
    s.add_argument("a"), s.add_argument("b"), s.add_argument("tol", type=float)
    s = sub.add_parser("step")
    for name in ("weights", "images", "labels", "kd_logits", "kd_state"):
        s.add_argument(name)
    s.add_argument("--tol", type=float, default=1e-3)
    a = p.parse_args()
    if torch is None:
        sys.exit("tinyvit_twin: cannot import torch (run with /usr/bin/python3, apt-get install "
                 "python3-torch)")
    torch.set_num_threads(1)
    globals()["cmd_" + a.cmd](a)


if __name__ == "__main__":
    main()
