#!/usr/bin/python3
"""PyTorch reference timing of the kdlab ViT or hybrid TinyViT, for the C bench to compare against.

Run with /usr/bin/python3 (Debian's python3-torch, which uses the same system OpenBLAS as
kdlab). The model is built exactly as core/models/vit.c builds it: 28x28x1 input, patch 4 conv
embedding (49 tokens) + CLS token + learned position embedding (50 tokens), dim 192, depth 6,
3 heads (--patch, --dim and --heads change these for the scaling figure), MLP ratio 4, pre-norm
blocks (LayerNorm eps 1e-6, qkv Linear with bias, proj, exact GELU MLP), final LayerNorm,
linear head on the CLS token, 10 classes; no dropout or drop-path.
With --arch tinyvit, the hybrid TinyViT of core/models/tinyvit.c instead: tools/torch_tinyvit.py,
written as TinyViT's own PyTorch code is (microsoft/Cream TinyViT/models/tiny_vit.py: NCHW
convolutions, (B, L, C) tokens in the attention stages, its module names, so a kdlab export loads
into it strictly; tests/test_tinyvit_twin.sh checks that both give the same logits and
gradients). Its defaults are configs/base/tinyvit.yaml's, and the C bench passes the teacher
config's lists: conv stem to dims[0] (28 -> 14), a stage of MBConv blocks, patch merging between
stages (14 -> 7 -> 4 -> 2), later stages of TinyViT blocks (window attention with its bias
table, local depthwise conv, MLP); mean pool, LayerNorm, linear head; drop_path 0.
Training step = forward + cross-entropy + backward + AdamW step on a fixed random batch.
With --autocast, forward and loss run under torch.autocast("cpu", dtype=torch.bfloat16), the one
line a PyTorch user adds for the CPU's bf16 units (oneDNN's AVX512-BF16 or AMX kernels), and
the rate of a bf16 matmul of 1024^3 (oneDNN's, through torch) is printed as that path's limit.

Output (stdout): one `key=value` pair per line, keys in this order, values without spaces:
    impl=torch                 always "torch"
    torch_version=1.13.0a0
    blas_core=Cooperlake       openblas_get_corename() of the OpenBLAS torch calls
    threads=N                  torch.set_num_threads and openblas_set_num_threads value
    malloc_tune=0|1            whether --malloc-tune was given
    precision=fp32|bf16        bf16 with --autocast
    batch=128
    params=N                   trainable parameter count
    warmup=N  steps=N          untimed and timed iterations (train and inference each)
    train_img_s=F              images per second, training steps
    train_cpu_ms=F             process CPU time per trained image (ms): steadier than wall
                               clock on a machine other jobs share
    infer_img_s=F              images per second, forward under no_grad in eval mode
    infer_cpu_ms=F             process CPU time per inferred image (ms)
    rss_base_mb=F              peak RSS after importing torch, before the model (MB)
    rss_growth_mb=F            peak RSS at the end minus rss_base_mb (MB)
    final_loss=F               last training loss (finite, as a sanity check)
    bf16_matmul_gflops=F       with --autocast: best of 5 bf16 1024^3 matmuls, GFLOP/s
Parse with e.g. sscanf(line, "%63[^=]=%63s", key, value); unknown keys are to be ignored.
Diagnostics (torch parallel/BLAS info) go to stderr.
"""
import argparse
import ctypes
import math
import os
import resource
import sys
import time


def int_list(text):
    """'32,64,80,160' -> [32, 64, 80, 160]"""
    return [int(v) for v in text.split(",")]


p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--threads", type=int, default=1, help="intra-op and BLAS threads (default 1)")
p.add_argument("--steps", type=int, default=20, help="timed iterations (default 20)")
p.add_argument("--warmup", type=int, default=3, help="untimed iterations first (default 3)")
p.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--patch", type=int, default=4, help="patch size (default 4: 49 + 1 tokens)")
p.add_argument("--dim", type=int, default=192, help="width (default 192)")
p.add_argument("--heads", type=int, default=3, help="attention heads (default 3)")
p.add_argument("--arch", choices=("vit", "tinyvit"), default="vit",
               help="vit: the reference ViT (default); tinyvit: the hybrid TinyViT")

# TinyViT's model keys, configs/base/tinyvit.yaml's by default; lists have one entry a stage
p.add_argument("--stage-dims", type=int_list, default=[32, 64, 80, 160], help="TinyViT widths")
p.add_argument("--stage-depths", type=int_list, default=[1, 1, 3, 1],
               help="TinyViT blocks a stage")
p.add_argument("--stage-heads", type=int_list, default=[2, 4, 5, 10],
               help="TinyViT attention heads (stage 1's unused)")
p.add_argument("--windows", type=int_list, default=[7, 4, 4, 2],
               help="TinyViT window sides (stage 1's unused)")
p.add_argument("--mlp-ratio", type=float, default=4.0, help="TinyViT MLP hidden / width")
p.add_argument("--malloc-tune", action="store_true",
               help="keep freed memory in the heap (mallopt) instead of unmapping it; on "
                    "sandboxed kernels (gVisor) torch's mmap/munmap churn costs ~15%% of a step")
p.add_argument("--autocast", action="store_true",
               help="forward and loss under torch.autocast('cpu', dtype=torch.bfloat16)")
args = p.parse_args()
if args.threads < 1 or args.steps < 1 or args.warmup < 0 or args.batch < 1:
    p.error("--threads, --steps and --batch must be >= 1, --warmup >= 0")
if len({len(args.stage_dims), len(args.stage_depths), len(args.stage_heads),
        len(args.windows)}) != 1:
    p.error("--stage-dims, --stage-depths, --stage-heads and --windows need one entry a stage")

# OpenBLAS sizes its thread pool when it loads, which happens when torch is imported.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[var] = str(args.threads)

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch_tinyvit import TinyViT  # tools/torch_tinyvit.py, beside this script
except ImportError as e:
    sys.exit(f"bench_torch: cannot import torch ({e}); run with /usr/bin/python3 "
             "after `apt-get install python3-torch`")

try:
    openblas = ctypes.CDLL("libopenblas.so.0")
    openblas.openblas_get_corename.restype = ctypes.c_char_p
    openblas.openblas_set_num_threads(args.threads)
    blas_core = openblas.openblas_get_corename().decode()
except (OSError, AttributeError):
    blas_core = "unknown"


def malloc_tune():
    """Large blocks from the heap, never trimmed: no mmap/munmap and page faults per step."""
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    libc = ctypes.CDLL(None)
    libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest allowed threshold
    libc.mallopt(M_TRIM_THRESHOLD, ctypes.c_int(2**31 - 1))


def bf16_matmul_gflops(n=1024, trials=5):
    """The bf16 path's limit: torch's bf16 matmul (oneDNN on x86), best of `trials`."""
    a = torch.randn(n, n).to(torch.bfloat16)
    b = torch.randn(n, n).to(torch.bfloat16)
    a @ b
    best = float("inf")
    for _ in range(trials):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9


def maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KB on Linux


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, T, C = x.shape
        qkv = self.qkv(x).reshape(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # (B, heads, T, C / heads)
        att = (q @ k.transpose(-2, -1)) * (C // self.heads) ** -0.5
        y = att.softmax(dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, mlp_ratio * dim)
        self.fc2 = nn.Linear(mlp_ratio * dim, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))  # exact (erf) GELU


class ViT(nn.Module):
    def __init__(self, img=28, chans=1, patch=4, dim=192, depth=6, heads=3, mlp_ratio=4,
                 classes=10):
        super().__init__()
        tokens = (img // patch) ** 2
        self.patch_embed = nn.Conv2d(chans, dim, kernel_size=patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # (B, 49, dim)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])


def main():
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    print(torch.__config__.parallel_info(), file=sys.stderr)
    print(f"bench_torch: OpenBLAS kernels {blas_core}, OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', 'unset')}, torch threads "
          f"{torch.get_num_threads()}", file=sys.stderr)

    if args.malloc_tune:
        malloc_tune()
    rss_base = maxrss_mb()
    if args.arch == "tinyvit":
        model = TinyViT(embed_dims=args.stage_dims, depths=args.stage_depths,
                        num_heads=args.stage_heads, window_sizes=args.windows,
                        mlp_ratio=args.mlp_ratio)
    else:
        model = ViT(patch=args.patch, dim=args.dim, heads=args.heads)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    x = torch.randn(args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch,))

    # bf16 operands for the matmuls and convolutions, fp32 weights and optimizer (autocast's
    # mixed precision); a no-op context without --autocast
    def precision():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.autocast)

    def train_step():
        opt.zero_grad(set_to_none=True)
        with precision():
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    model.train()
    for _ in range(args.warmup):
        train_step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        loss = train_step()
    train_s = time.perf_counter() - t0
    train_cpu = time.process_time() - c0

    model.eval()
    with torch.no_grad(), precision():
        for _ in range(args.warmup):
            model(x)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.steps):
            model(x)
        infer_s = time.perf_counter() - t0
        infer_cpu = time.process_time() - c0
    if not math.isfinite(loss):
        sys.exit(f"bench_torch: training loss is {loss}")

    n = args.steps * args.batch
    out = {
        "impl": "torch",
        "torch_version": torch.__version__,
        "blas_core": blas_core,
        "threads": args.threads,
        "malloc_tune": int(args.malloc_tune),
        "precision": "bf16" if args.autocast else "fp32",
        "batch": args.batch,
        "params": sum(p.numel() for p in model.parameters()),
        "warmup": args.warmup,
        "steps": args.steps,
        "train_img_s": f"{n / train_s:.1f}",
        "train_cpu_ms": f"{1e3 * train_cpu / n:.3f}",
        "infer_img_s": f"{n / infer_s:.1f}",
        "infer_cpu_ms": f"{1e3 * infer_cpu / n:.3f}",
        "rss_base_mb": f"{rss_base:.1f}",
        "rss_growth_mb": f"{maxrss_mb() - rss_base:.1f}",
        "final_loss": f"{loss:.4f}",
    }
    if args.autocast:
        out["bf16_matmul_gflops"] = f"{bf16_matmul_gflops():.1f}"
    for k, v in out.items():
        print(f"{k}={v}")


if __name__ == "__main__":
    main()
