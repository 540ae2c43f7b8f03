#!/usr/bin/python3
"""PyTorch twin of kdlab's ViT and a plain safetensors reader/writer, for tests/test_interop.sh.

Run with /usr/bin/python3 (Debian's python3-torch). The model is timm's VisionTransformer as
core/models/vit.c builds it: Conv2d patch embedding, CLS token, learned position embedding,
pre-norm blocks (LayerNorm eps 1e-6, qkv Linear with bias, proj, exact GELU MLP), final
LayerNorm, linear head on the CLS token; parameter names are timm's, so a kdlab export loads
with load_state_dict(strict=True). safetensors is written and read with struct + json (the
safetensors package is not in Debian).

Subcommands (arrays are raw float32 little-endian files, images (N, H, W, C) as kdlab reads):
  probe                                   exit 0 when torch imports
  logits WEIGHTS IMAGES OUT [--arch k=v..] [--drop PREFIX..]  torch logits of a weights file
                                          (strict load, after dropping tensors named PREFIX*)
  random OUT [--arch k=v..] [--seed S] [--dtype F32|F16|BF16] [--meta]  a random torch ViT
  train OUT [--arch ..] [--n N] [--epochs E] [--seed S] [--meta]  a torch ViT on Fashion-MNIST
  images OUT --img I --in-ch C --n N [--seed S] | --fmnist N   normal noise or test images
  compare A B TOL                         max |A - B|, exit 1 above TOL
"""
import argparse
import gzip
import json
import math
import struct
import sys

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:  # `probe` reports it; the other commands need torch
    torch = None

ARCH_DEFAULTS = dict(img=28, in_ch=1, classes=10, patch=4, dim=64, depth=4, heads=2,
                     mlp_ratio=4.0)
FMNIST = "/usr/share/datasets/fashion-mnist"
DTYPES = {"F32": ("float32", 4), "F16": ("float16", 2), "BF16": ("bfloat16", 2),
          "F64": ("float64", 8)}

if torch is not None:
    class Attention(nn.Module):
        def __init__(self, dim, heads):
            super().__init__()
            self.heads = heads
            self.qkv = nn.Linear(dim, 3 * dim, bias=True)
            self.proj = nn.Linear(dim, dim)

        def forward(self, x):
            B, T, C = x.shape
            qkv = self.qkv(x).reshape(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            att = (q @ k.transpose(-2, -1)) * (C // self.heads) ** -0.5
            y = att.softmax(dim=-1) @ v
            return self.proj(y.transpose(1, 2).reshape(B, T, C))

    class Mlp(nn.Module):
        def __init__(self, dim, hidden):
            super().__init__()
            self.fc1 = nn.Linear(dim, hidden)
            self.fc2 = nn.Linear(hidden, dim)

        def forward(self, x):
            return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU

    class Block(nn.Module):
        def __init__(self, dim, heads, hidden):
            super().__init__()
            self.norm1 = nn.LayerNorm(dim, eps=1e-6)
            self.attn = Attention(dim, heads)
            self.norm2 = nn.LayerNorm(dim, eps=1e-6)
            self.mlp = Mlp(dim, hidden)

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class PatchEmbed(nn.Module):
        def __init__(self, in_ch, dim, patch):
            super().__init__()
            self.proj = nn.Conv2d(in_ch, dim, kernel_size=patch, stride=patch)

        def forward(self, x):
            return self.proj(x).flatten(2).transpose(1, 2)

    class ViT(nn.Module):
        def __init__(self, img, in_ch, classes, patch, dim, depth, heads, mlp_ratio):
            super().__init__()
            tokens = (img // patch) ** 2
            hidden = int(mlp_ratio * dim + 0.5)
            self.patch_embed = PatchEmbed(in_ch, dim, patch)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
            self.blocks = nn.ModuleList(Block(dim, heads, hidden) for _ in range(depth))
            self.norm = nn.LayerNorm(dim, eps=1e-6)
            self.head = nn.Linear(dim, classes)

        def forward(self, x):  # x (B, in_ch, img, img)
            x = self.patch_embed(x)
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
            for blk in self.blocks:
                x = blk(x)
            return self.head(self.norm(x)[:, 0])


def st_read(path):
    """(tensors, metadata) of a safetensors file, validated like the reference reader."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        kind, size = DTYPES[t["dtype"]]
        count = math.prod(t["shape"])
        assert e - b == count * size and e <= len(data), name
        buf = bytearray(data[b:e])
        v = torch.frombuffer(buf, dtype=getattr(torch, kind)) if count else torch.zeros(0)
        out[name] = v.reshape(t["shape"]).float()
    return out, meta


def st_write(path, tensors, meta=None, dtype="F32"):
    """tensors {name: torch tensor} as safetensors (header padded to 8 bytes), in name order."""
    kind, size = DTYPES[dtype]
    header, blobs, at = {}, [], 0
    if meta:
        header["__metadata__"] = meta
    for name in sorted(tensors):
        t = tensors[name].detach().to(getattr(torch, kind)).contiguous()
        blob = (t.view(torch.int16) if size == 2 else t).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)) + js + b"".join(blobs))


def arch_of(meta, overrides):
    """Model shape: defaults < the kdlab.config metadata lines < --arch key=value."""
    a = dict(ARCH_DEFAULTS)
    for line in meta.get("kdlab.config", "").splitlines():
        k, _, v = line.partition(":")
        k = k.strip().removeprefix("model.")
        if k in a:
            a[k] = type(a[k])(float(v)) if k != "mlp_ratio" else float(v)
    for kv in overrides or []:
        k, _, v = kv.partition("=")
        a[k] = float(v) if k == "mlp_ratio" else int(v)
    return a


def kdlab_meta(a):
    return {"format": "pt",
            "kdlab.config": "".join(f"model.{k}: {v}\n" for k, v in a.items()) + "model.arch: vit\n"}


def load_f32(path, shape_tail):
    raw = bytearray(open(path, "rb").read())
    return torch.frombuffer(raw, dtype=torch.float32).reshape(-1, *shape_tail)


def fmnist_test(n):
    """The first n test images normalized as kdlab does, (n, 28, 28, 1), and their labels."""
    with gzip.open(f"{FMNIST}/t10k-images-idx3-ubyte.gz") as f:
        px = bytearray(f.read()[16:16 + n * 784])
    with gzip.open(f"{FMNIST}/t10k-labels-idx1-ubyte.gz") as f:
        lab = bytearray(f.read()[8:8 + n])
    x = torch.frombuffer(px, dtype=torch.uint8).float().reshape(n, 28, 28, 1)
    return (x / 255 - 0.2860) / 0.3530, torch.tensor(list(lab))


def fmnist_train(n):
    with gzip.open(f"{FMNIST}/train-images-idx3-ubyte.gz") as f:
        px = bytearray(f.read()[16:16 + n * 784])
    with gzip.open(f"{FMNIST}/train-labels-idx1-ubyte.gz") as f:
        lab = bytearray(f.read()[8:8 + n])
    x = torch.frombuffer(px, dtype=torch.uint8).float().reshape(n, 1, 28, 28)
    return (x / 255 - 0.2860) / 0.3530, torch.tensor(list(lab))


def cmd_logits(args):
    tensors, meta = st_read(args.weights)
    tensors = {k: v for k, v in tensors.items() if not k.startswith(tuple(args.drop or ()))}
    a = arch_of(meta, args.arch)
    model = ViT(**a)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    x = load_f32(args.images, (a["img"], a["img"], a["in_ch"])).permute(0, 3, 1, 2)
    with torch.no_grad():
        y = model(x)
    open(args.out, "wb").write(y.float().contiguous().numpy().tobytes())


def randomize(model, seed):
    """Every parameter random (norms and biases included), so no tensor is a no-op."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))


def cmd_random(args):
    a = arch_of({}, args.arch)
    model = ViT(**a)
    randomize(model, args.seed)
    st_write(args.out, model.state_dict(), kdlab_meta(a) if args.meta else None, args.dtype)


def cmd_train(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    a = arch_of({}, args.arch)
    model = ViT(**a)
    x, y = fmnist_train(args.n)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    for _ in range(args.epochs):
        perm = torch.randperm(args.n)
        for i in range(0, args.n, 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    xt, yt = fmnist_test(1000)
    with torch.no_grad():
        acc = (model(xt.permute(0, 3, 1, 2)).argmax(1) == yt).float().mean().item()
    print(f"torch teacher: {args.n} images x {args.epochs} epochs, test acc {acc:.4f}")
    st_write(args.out, model.state_dict(), kdlab_meta(a) if args.meta else None)


def cmd_images(args):
    if args.fmnist:
        x, _ = fmnist_test(args.fmnist)
    else:
        g = torch.Generator().manual_seed(args.seed)
        x = torch.randn(args.n, args.img, args.img, args.in_ch, generator=g)
    open(args.out, "wb").write(x.contiguous().numpy().tobytes())


def cmd_compare(args):
    a = torch.frombuffer(bytearray(open(args.a, "rb").read()), dtype=torch.float32)
    b = torch.frombuffer(bytearray(open(args.b, "rb").read()), dtype=torch.float32)
    if a.shape != b.shape:
        sys.exit(f"compare: {a.numel()} vs {b.numel()} values")
    d = (a - b).abs().max().item()
    print(f"max |logit difference| = {d:.3g} over {a.numel()} logits (scale {a.abs().max().item():.3g})")
    sys.exit(0 if d <= args.tol else 1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("probe")
    s = sub.add_parser("logits")
    s.add_argument("weights"), s.add_argument("images"), s.add_argument("out")
    s.add_argument("--arch", nargs="*"), s.add_argument("--drop", nargs="*")
    s = sub.add_parser("random")
    s.add_argument("out"), s.add_argument("--arch", nargs="*")
    s.add_argument("--seed", type=int, default=0), s.add_argument("--dtype", default="F32")
    s.add_argument("--meta", action="store_true")
    s = sub.add_parser("train")
    s.add_argument("out"), s.add_argument("--arch", nargs="*")
    s.add_argument("--n", type=int, default=2000), s.add_argument("--epochs", type=int, default=1)
    s.add_argument("--seed", type=int, default=0), s.add_argument("--meta", action="store_true")
    s = sub.add_parser("images")
    s.add_argument("out"), s.add_argument("--img", type=int, default=28)
    s.add_argument("--in-ch", type=int, default=1), s.add_argument("--n", type=int, default=16)
    s.add_argument("--seed", type=int, default=0), s.add_argument("--fmnist", type=int, default=0)
    s = sub.add_parser("compare")
    s.add_argument("a"), s.add_argument("b"), s.add_argument("tol", type=float)
    args = p.parse_args()
    if torch is None:
        sys.exit("torch_vit: cannot import torch (run with /usr/bin/python3, apt-get install "
                 "python3-torch)")
    if args.cmd != "probe":
        globals()["cmd_" + args.cmd](args)


if __name__ == "__main__":
    main()
