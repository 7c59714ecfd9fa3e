#!/usr/bin/env python3
"""The peers of `unet bench` on the CPU: PyTorch eager and ONNX Runtime, on the same weights.

Each step runs in its own process, so that `/usr/bin/time -v` around it gives that runtime's own
peak RSS (the ORT step imports neither torch nor the model code):

    peers.py torch  --model M --size HxW --runs N --threads T --work DIR   # eager timing; writes
                                                                           # DIR/input.npy, DIR/torch_out.npy
    peers.py export --model M --size HxW --work DIR                        # DIR/model.onnx (opset 17)
    peers.py ort    --size HxW --runs N --threads T --work DIR             # ORT timing + agreement check
    peers.py flops  --model M --size HxW                                   # conv FLOPs of one forward pass

Every step prints one `key=value ...` line (the same keys as `unet bench`: median_ms, min_ms,
max_ms) and, with --json FILE, appends it as one JSON object to FILE.

Timing follows `unet bench`: one warm-up pass, then N timed passes; the median is the middle of the
sorted times (the upper middle for an even N), as in crates/cli/src/bench.rs.

The network is the classic U-Net (Ronneberger et al., 2015) as milesial/Pytorch-UNet lays it out, so
its parameter names are that project's and a `.unet.safetensors` file (or a milesial `.safetensors`)
loads with `load_state_dict(strict=True)`. The architecture is read off the tensors, as `unet` does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

OPSET = 17
SEED = 0


# ---------------------------------------------------------------------------------------------
# The model (torch is only imported by the steps that need it)
# ---------------------------------------------------------------------------------------------

def build_unet_module():
    """The U-Net class (scripts/unet_torch.py); imported here so that the ORT step never
    imports torch."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from unet_torch import UNet

    return UNet


def load_model(path: Path):
    """Builds the U-Net the file describes and loads its weights (float32, eval mode)."""
    import torch
    from safetensors.torch import load_file

    state = {k: v.float() for k, v in load_file(str(path)).items()}
    # milesial's checkpoints carry BatchNorm's counter; it plays no part in inference.
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    first = state["inc.double_conv.0.weight"]
    config = dict(
        n_channels=first.shape[1],
        n_classes=state["outc.conv.weight"].shape[0],
        bilinear="up1.up.weight" not in state,
        base=first.shape[0],
    )
    model = build_unet_module()(**config)
    # Buffers the file lacks (num_batches_tracked) are not needed; everything else must match.
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"error: {path}: missing {missing}, unexpected {unexpected}")
    return model.eval(), config


def conv_flops(config: dict, shape) -> tuple[float, list[tuple[str, float]]]:
    """FLOPs (2 × multiply-adds) of every convolution in one forward pass, from the layer shapes.

    Runs the network on PyTorch's meta device: shapes only, no arithmetic, no memory. BatchNorm,
    ReLU, pooling, up-sampling and concatenation are left out (well under 1 % of the total).
    """
    import torch
    from torch import nn

    model = build_unet_module()(**config).to("meta").eval()

    per_layer: list[tuple[str, float]] = []
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            def hook(m, inputs, out, name=name):
                kh, kw = m.kernel_size
                macs = out.numel() * (m.in_channels // m.groups) * kh * kw
                per_layer.append((name, 2.0 * macs))
        elif isinstance(module, nn.ConvTranspose2d):
            def hook(m, inputs, out, name=name):
                kh, kw = m.kernel_size
                x = inputs[0]
                # Each input pixel scatters a kh×kw×out_channels patch, each an in_channels dot product.
                macs = x.shape[0] * x.shape[2] * x.shape[3] * m.in_channels * m.out_channels * kh * kw
                per_layer.append((name, 2.0 * macs))
        else:
            continue
        hooks.append(module.register_forward_hook(hook))
    with torch.inference_mode():
        model(torch.empty(shape, device=next(model.parameters()).device))
    for h in hooks:
        h.remove()
    return sum(f for _, f in per_layer), per_layer


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------

def parse_size(text: str) -> tuple[int, int]:
    h, w = text.lower().split("x")
    return int(h), int(w)


def summarise(times_s: list[float]) -> dict:
    ms = sorted(t * 1e3 for t in times_s)
    return dict(runs=len(ms), median_ms=round(ms[len(ms) // 2], 2), min_ms=round(ms[0], 2),
                max_ms=round(ms[-1], 2))


def emit(record: dict, json_path: str | None) -> None:
    print(" ".join(f"{k}={v}" for k, v in record.items()), flush=True)
    if json_path:
        with open(json_path, "a") as f:
            f.write(json.dumps(record) + "\n")


def step_torch(args) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    model, config = load_model(args.model)
    h, w = args.size
    torch.manual_seed(SEED)
    x = torch.rand(1, config["n_channels"], h, w)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    device = torch.device(args.device)
    model, x_dev = model.to(device), x.to(device)
    # CUDA launches are asynchronous: each timed pass ends when the GPU has finished it.
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    with torch.inference_mode():
        out = model(x_dev)  # warm-up
        sync()
        for _ in range(max(1, args.runs)):
            start = time.perf_counter()
            out = model(x_dev)
            sync()
            times.append(time.perf_counter() - start)
    if device.type == "cpu":
        # The ORT step checks itself against these (CPU) results.
        np.save(work / "input.npy", x.numpy())
        np.save(work / "torch_out.npy", out.cpu().numpy())
    flops, _ = conv_flops(config, x.shape)
    rec = dict(peer="pytorch" if device.type == "cpu" else f"pytorch-{device.type}", model=args.model.name, size=f"{h}x{w}", threads=torch.get_num_threads(),
               **summarise(times), omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", "default"), gflop=round(flops / 1e9, 3), torch=torch.__version__, **config)
    rec["gflops_per_s"] = round(flops / 1e9 / (rec["median_ms"] / 1e3), 1)
    return rec


def step_export(args) -> dict:
    import warnings

    import torch

    # The tracer's note on the padding branch (the size is fixed, so the trace is exact) and the
    # TorchScript exporter's deprecation notice are noise here.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    model, config = load_model(args.model)
    h, w = args.size
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    x = torch.zeros(1, config["n_channels"], h, w)
    path = work / "model.onnx"
    # The TorchScript-based exporter: no onnxscript needed, and opset 17 as asked for.
    torch.onnx.export(model, (x,), str(path), input_names=["input"], output_names=["logits"],
                      opset_version=OPSET, dynamo=False, do_constant_folding=True)
    return dict(step="export", model=args.model.name, size=f"{h}x{w}", onnx=str(path), opset=OPSET,
                bytes=path.stat().st_size)


def step_ort(args) -> dict:
    import onnxruntime as ort

    work = Path(args.work)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if args.no_spin:
        # Idle workers sleep instead of spinning: on a machine shared with other work, spinning
        # threads fight the other processes for the cores (see BENCHMARKS.md, method).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(work / "model.onnx"), opts, providers=["CPUExecutionProvider"])
    x = np.load(work / "input.npy")
    if x.shape[2:] != tuple(args.size):
        sys.exit(f"error: {work}/input.npy is {x.shape}, not {args.size}: run the torch step first")
    feed = {session.get_inputs()[0].name: x}
    out = session.run(None, feed)[0]  # warm-up
    times = []
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        out = session.run(None, feed)[0]
        times.append(time.perf_counter() - start)
    ref = np.load(work / "torch_out.npy")
    # Relative to the output's scale: max |ORT − torch| / max |torch|. Per-element relative error is
    # meaningless for logits near zero.
    rel = float(np.max(np.abs(out - ref)) / max(float(np.max(np.abs(ref))), 1e-12))
    h, w = args.size
    rec = dict(peer="onnxruntime", model=args.model_name, size=f"{h}x{w}", threads=args.threads,
               **summarise(times), spinning=not args.no_spin, ort=ort.__version__, max_rel_diff_vs_torch=f"{rel:.2e}",
               agrees=rel <= 1e-3)
    return rec


def step_flops(args) -> dict:
    _, config = load_model(args.model)
    h, w = args.size
    flops, layers = conv_flops(config, (1, config["n_channels"], h, w))
    if args.verbose:
        for name, f in layers:
            print(f"  {name:40s} {f / 1e9:8.3f} GFLOP")
    return dict(step="flops", model=args.model.name, size=f"{h}x{w}", gflop=round(flops / 1e9, 3),
                **config)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["torch", "export", "ort", "flops"])
    parser.add_argument("--model", type=Path, help="a .unet.safetensors (or milesial .safetensors) file")
    parser.add_argument("--model-name", default=None, help="name recorded by the ort step")
    parser.add_argument("--size", type=parse_size, default=(256, 256), help="HxW")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--device", default="cpu", help="torch device of the torch step: cpu or cuda")
    parser.add_argument("--work", default="target/bench/peers", help="folder for input, output, ONNX")
    parser.add_argument("--json", default=None, help="append the result line as JSON to this file")
    parser.add_argument("--no-spin", action="store_true",
                        help="ort: idle intra-op threads sleep instead of spinning")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if args.step != "ort" and args.model is None:
        parser.error(f"{args.step} needs --model")
    if args.model_name is None:
        args.model_name = args.model.name if args.model else "?"
    record = {"torch": step_torch, "export": step_export, "ort": step_ort, "flops": step_flops}[args.step](args)
    emit(record, args.json)
    if args.step == "ort" and not record["agrees"]:
        print(f"error: ONNX Runtime and PyTorch disagree: {record['max_rel_diff_vs_torch']} > 1e-3",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
