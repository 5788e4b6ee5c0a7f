"""The stages `radfm bench` times, in PyTorch, for a side-by-side ratio on the same machine and thread count.

Two implementations of the stages, both with `radfm bench`'s sizes and token counts and the same output lines:

- with `--radfm CHECKOUT` (a checkout of chaoyi-wu/RadFM; only its `src/Model/RadFM/vit_3d.py`,
  `position_encoding.py` and `helpers.py` are imported, never copied): vision is RadFM's own `ViT` followed
  by its `PerceiverResampler` and the `nn.Linear` projection into the LLM width (what `MyEmbedding` does with
  an image in text mode, and what `radfm bench`'s vision stage covers); the LLM is transformers'
  `LlamaForCausalLM` (RadFM's language model class; RadFM pins transformers 4.28.1), prefilled with one
  `use_cache=True` forward over the batch's prompts and decoded greedily one token per sequence with
  `past_key_values`. RadFM's `PositionEmbeddingLearned3d` splits the width in three, so `--quick` uses a
  96-wide ViT there instead of `radfm bench --quick`'s 64. `LlamaForCausalLM` computes logits at every
  prompt position during prefill (as RadFM's generation does), where `radfm bench` computes only the last:
  at the full sizes and 16 layers that is about 8 % more prefill work, charged to PyTorch.
- without it: the same computation written from DESIGN section 5 with ordinary torch ops (3D ViT with
  explicit softmax attention, perceiver resampler, LLaMA decoder with a KV cache), for machines without a
  RadFM checkout or transformers.

Not part of CI: it needs torch (and for `--radfm`, einops, einops-exts and transformers) in a benchmark venv.

    python3 Benchmarks/pytorch_stages.py --threads 2 [--radfm CHECKOUT] [--quick] [--repeats 3]
        [--stages sgemm,vision,llm] [--depths 4 64] [--batches 1 4 16] [--llm-layers 16] [--lockstep]

Prints one line per stage: best-of-N seconds and the figure `radfm bench` prints (tokens/s for the LLM).
"""
import argparse
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    def __init__(self, dim, heads, dim_head):
        super().__init__()
        self.heads, self.scale = heads, dim_head ** -0.5
        self.norm = nn.LayerNorm(dim)
        self.to_qkv = nn.Linear(dim, 3 * heads * dim_head, bias=False)
        self.to_out = nn.Linear(heads * dim_head, dim)

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = self.to_qkv(self.norm(x)).chunk(3, dim=-1)
        q, k, v = (t.view(b, n, self.heads, -1).transpose(1, 2) for t in (q, k, v))
        attn = (q @ k.transpose(-1, -2) * self.scale).softmax(dim=-1)
        return self.to_out((attn @ v).transpose(1, 2).reshape(b, n, -1))


class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.net(x)


class VisionEncoder(nn.Module):
    """3D ViT: (p1 p2 pf c) patches -> LayerNorm/Linear/LayerNorm, 3D position embedding, pre-norm blocks."""

    def __init__(self, v):
        super().__init__()
        self.v = v
        patch_dim = v["patch_size"] ** 2 * v["frame_patch_size"] * v["channels"]
        self.embed = nn.Sequential(nn.LayerNorm(patch_dim), nn.Linear(patch_dim, v["dim"]), nn.LayerNorm(v["dim"]))
        self.blocks = nn.ModuleList(
            nn.ModuleList([Attention(v["dim"], v["heads"], v["dim_head"]), FeedForward(v["dim"], v["mlp_dim"])])
            for _ in range(v["depth"]))

    def forward(self, image):  # [b, c, h, w, d]
        p, pf = self.v["patch_size"], self.v["frame_patch_size"]
        b, c, h, w, d = image.shape
        x = image.view(b, c, h // p, p, w // p, p, d // pf, pf).permute(0, 2, 4, 6, 3, 5, 7, 1)
        x = self.embed(x.reshape(b, (h // p) * (w // p) * (d // pf), -1))
        x = x + torch.randn_like(x[:1])  # stands in for the gathered 3D position embedding
        for attention, feed_forward in self.blocks:
            x = attention(x) + x
            x = feed_forward(x) + x
        return x


class PerceiverAttention(nn.Module):
    def __init__(self, dim, heads, dim_head):
        super().__init__()
        self.heads, self.scale = heads, dim_head ** -0.5
        inner = heads * dim_head
        self.norm_media, self.norm_latents = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, 2 * inner, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, media, latents):
        media, latents = self.norm_media(media), self.norm_latents(latents)
        b, n, _ = latents.shape
        q = self.to_q(latents).view(b, n, self.heads, -1).transpose(1, 2)
        k, v = self.to_kv(torch.cat([media, latents], dim=1)).chunk(2, dim=-1)
        k, v = (t.view(b, t.shape[1], self.heads, -1).transpose(1, 2) for t in (k, v))
        attn = (q @ k.transpose(-1, -2) * self.scale).softmax(dim=-1)
        return self.to_out((attn @ v).transpose(1, 2).reshape(b, n, -1))


class Perceiver(nn.Module):
    def __init__(self, dim, p):
        super().__init__()
        self.latents = nn.Parameter(torch.randn(p["num_latents"], dim))
        self.layers = nn.ModuleList(
            nn.ModuleList([PerceiverAttention(dim, p["heads"], p["dim_head"]),
                           nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim * p["ff_mult"], bias=False),
                                         nn.GELU(), nn.Linear(dim * p["ff_mult"], dim, bias=False))])
            for _ in range(p["depth"]))
        self.norm = nn.LayerNorm(dim)

    def forward(self, media):
        latents = self.latents.expand(media.shape[0], -1, -1)
        for attention, feed_forward in self.layers:
            latents = attention(media, latents) + latents
            latents = feed_forward(latents) + latents
        return self.norm(latents)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(dim)), eps

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat([-b, a], dim=-1)


class DecoderLayer(nn.Module):
    def __init__(self, t):
        super().__init__()
        h, self.heads = t["hidden_size"], t["num_attention_heads"]
        self.q, self.k, self.v, self.o = (nn.Linear(h, h, bias=False) for _ in range(4))
        self.gate = nn.Linear(h, t["intermediate_size"], bias=False)
        self.up = nn.Linear(h, t["intermediate_size"], bias=False)
        self.down = nn.Linear(t["intermediate_size"], h, bias=False)
        self.norm1, self.norm2 = RMSNorm(h, 1e-6), RMSNorm(h, 1e-6)

    def forward(self, x, cos, sin, cache):
        b, n, _ = x.shape
        y = self.norm1(x)
        q, k, v = (proj(y).view(b, n, self.heads, -1).transpose(1, 2) for proj in (self.q, self.k, self.v))
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if cache:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        cache[:] = [k, v]
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if n > 1:
            scores = scores + torch.full((n, k.shape[2]), float("-inf")).triu(k.shape[2] - n + 1)
        x = x + self.o((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, -1))
        y = self.norm2(x)
        return x + self.down(F.silu(self.gate(y)) * self.up(y))


class Llama(nn.Module):
    def __init__(self, t):
        super().__init__()
        self.t = t
        self.embed = nn.Embedding(t["vocab_size"], t["hidden_size"])
        self.layers = nn.ModuleList(DecoderLayer(t) for _ in range(t["num_hidden_layers"]))
        self.norm = RMSNorm(t["hidden_size"], 1e-6)
        self.lm_head = nn.Linear(t["hidden_size"], t["vocab_size"], bias=False)

    def rotary(self, start, count):
        head = self.t["hidden_size"] // self.t["num_attention_heads"]
        inv_freq = 1.0 / (10000 ** (torch.arange(0, head, 2).float() / head))
        angles = torch.outer(torch.arange(start, start + count).float(), inv_freq)
        angles = torch.cat([angles, angles], dim=-1)
        return angles.cos(), angles.sin()

    def forward(self, tokens, start, caches):
        x = self.embed(tokens)
        cos, sin = self.rotary(start, tokens.shape[1])
        for layer, cache in zip(self.layers, caches):
            x = layer(x, cos, sin, cache)
        return self.lm_head(self.norm(x[:, -1]))  # last position only, as generation needs


def plain_vision(v, p, hidden):
    """The vision stage from DESIGN section 5: image [1, c, h, w, d] -> [latents, hidden]."""
    encoder, perceiver = VisionEncoder(v).eval(), Perceiver(v["dim"], p).eval()
    fc = nn.Linear(v["dim"], hidden)
    return lambda image: fc(perceiver(encoder(image)))


def plain_llm(t):
    """(prefill, decode) of the DESIGN-section-5 decoder; each returns last-position logits and the caches."""
    llm = Llama(t).eval()
    uniform_init(llm)

    def prefill(prompt):
        caches = [[] for _ in llm.layers]
        return llm(prompt, 0, caches), caches

    def decode(tokens, position, caches):
        return llm(tokens, position, caches), caches

    return prefill, decode


def import_radfm(checkout):
    """RadFM's vision modules from a checkout. Only vit_3d (with position_encoding) and helpers are imported:
    they need einops and einops-exts alone, unlike my_embedding_layer/utils (torchvision, BERT downloads)."""
    source = os.path.join(checkout, "src")
    if not os.path.isdir(os.path.join(source, "Model", "RadFM")):
        raise SystemExit(f"{checkout} is not a RadFM checkout (no src/Model/RadFM)")
    sys.path.insert(0, source)
    from Model.RadFM.helpers import PerceiverResampler
    from Model.RadFM.vit_3d import ViT
    return ViT, PerceiverResampler


def radfm_vision(checkout, v, p, hidden):
    """RadFM's ViT -> PerceiverResampler -> fc, reshaped between them as MyEmbedding.forward does."""
    ViT, PerceiverResampler = import_radfm(checkout)
    encoder = ViT(image_size=v["image_size"], image_patch_size=v["patch_size"], frames=v["frames"],
                  frame_patch_size=v["frame_patch_size"], dim=v["dim"], depth=v["depth"], heads=v["heads"],
                  mlp_dim=v["mlp_dim"], channels=v["channels"], dim_head=v["dim_head"]).eval()
    perceiver = PerceiverResampler(dim=v["dim"], depth=p["depth"], dim_head=p["dim_head"], heads=p["heads"],
                                   num_latents=p["num_latents"], ff_mult=p["ff_mult"]).eval()
    fc = nn.Linear(v["dim"], hidden)

    def run(image):
        tokens, _ = encoder(image)  # [b, patches, dim] and the position embedding
        latents = perceiver(tokens[:, None, None])  # MyEmbedding's "(b s F) v d -> b s F v d" with s = F = 1
        return fc(latents.flatten(0, 2))

    return run


def hf_llm(t):
    """(prefill, decode) of transformers' LlamaForCausalLM at the bench's sizes, with its own KV cache."""
    from transformers import LlamaConfig, LlamaForCausalLM
    config = LlamaConfig(vocab_size=t["vocab_size"], hidden_size=t["hidden_size"],
                         intermediate_size=t["intermediate_size"], num_hidden_layers=t["num_hidden_layers"],
                         num_attention_heads=t["num_attention_heads"], rms_norm_eps=1e-6,
                         max_position_embeddings=t["max_position_embeddings"],
                         pad_token_id=0, bos_token_id=1, eos_token_id=2)
    llm = LlamaForCausalLM(config).eval()
    uniform_init(llm)

    def prefill(prompt):
        output = llm(input_ids=prompt, use_cache=True)
        return output.logits[:, -1], output.past_key_values

    def decode(tokens, _position, past):
        output = llm(input_ids=tokens, past_key_values=past, use_cache=True)
        return output.logits[:, -1], output.past_key_values

    return prefill, decode


def uniform_init(model):
    """The bench's 1/sqrt(fan-in) uniform matrices, so activations stay finite and both paths see alike values."""
    for parameter in model.parameters():
        if parameter.dim() == 2:
            nn.init.uniform_(parameter, -parameter.shape[1] ** -0.5, parameter.shape[1] ** -0.5)


def best_of(repeats, body):
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        best = min(best, time.perf_counter() - start)
    return best


def configs(quick):
    """The sizes of `radfm bench` (and of `radfm bench --quick`)."""
    if quick:
        vision = dict(image_size=64, frames=8, patch_size=32, frame_patch_size=4, channels=3, dim=64, depth=2,
                      heads=2, dim_head=32, mlp_dim=128)
        perceiver = dict(depth=1, heads=2, dim_head=32, num_latents=4, ff_mult=2)
        text = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                    vocab_size=512, max_position_embeddings=64)
        return vision, perceiver, text, dict(depths=[4], batches=[1, 2], prompt=8, decode=2)
    vision = dict(image_size=512, frames=512, patch_size=32, frame_patch_size=4, channels=3, dim=768, depth=12,
                  heads=8, dim_head=64, mlp_dim=2048)
    perceiver = dict(depth=6, heads=8, dim_head=64, num_latents=32, ff_mult=4)
    text = dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=16, num_attention_heads=16,
                vocab_size=32000, max_position_embeddings=2048)
    return vision, perceiver, text, dict(depths=[4, 64], batches=[1, 4, 16], prompt=128, decode=16)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--radfm", metavar="CHECKOUT",
                        help="time RadFM's own ViT/PerceiverResampler and transformers' LlamaForCausalLM")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs per stage")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--stages", default="sgemm,vision,llm")
    # The same overrides as `radfm bench`, for focused side-by-side runs of one stage.
    parser.add_argument("--depths", type=int, nargs="+", help="volume depths of the vision runs")
    parser.add_argument("--batches", type=int, nargs="+", help="batch sizes of the LLM runs")
    parser.add_argument("--llm-layers", type=int, help="decoder layers of the benchmark LLM")
    parser.add_argument("--lockstep", action="store_true",
                        help="print `ready`, then time one stage per stdin line (`vision D`, `prefill B`, "
                             "`decode B`, `quit`), as `radfm bench --lockstep` does")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vision_cfg, perceiver_cfg, text_cfg, plan = configs(args.quick)
    if args.radfm and args.quick:
        vision_cfg["dim"] = 96  # PositionEmbeddingLearned3d gives dim // 3 features per axis: dim must divide by 3
    if args.depths:
        plan["depths"] = args.depths
    if args.batches:
        plan["batches"] = args.batches
    if args.llm_layers:
        text_cfg["num_hidden_layers"] = args.llm_layers
    stages = args.stages.split(",")
    code = f"RadFM's modules from {args.radfm}" if args.radfm else "plain-torch re-implementation"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{torch.backends.cpu.get_cpu_capability()}, {code}")

    with torch.inference_mode():
        if "sgemm" in stages:
            n = 256 if args.quick else 2048
            a, b = torch.randn(n, n), torch.randn(n, n)
            seconds = best_of(args.repeats, lambda: a @ b)
            print(f"sgemm {n}^3: {2 * n ** 3 / seconds / 1e9:.1f} GFLOP/s")
        runner = Stages(args.radfm, vision_cfg, perceiver_cfg, text_cfg, plan)
        if args.lockstep:
            runner.answer_requests()
            return
        if "vision" in stages:
            for depth in plan["depths"]:
                repeats = args.repeats if depth <= 16 else max(1, args.repeats // 2)
                runner.vision(depth)  # untimed first pass at this size pays its allocations
                print(runner.vision_line(depth, min(runner.vision(depth) for _ in range(repeats))))
        if "llm" in stages:
            for batch in plan["batches"]:
                print(runner.prefill_line(batch, min(runner.prefill(batch) for _ in range(args.repeats))))
                print(runner.decode_line(batch, runner.decode(batch)))


class Stages:
    """One timed run per call of each stage, built lazily (vision first, the LLM on its first request): the
    sequential run and the `--lockstep` request loop share them, as in `radfm bench`."""

    def __init__(self, checkout, vision_cfg, perceiver_cfg, text_cfg, plan):
        self.checkout, self.vision_cfg, self.perceiver_cfg, self.text_cfg = checkout, vision_cfg, perceiver_cfg, text_cfg
        self.plan, self.images, self.prefilled = plan, {}, {}
        self.vision_model = self.llm = None

    def vision(self, depth):
        if depth <= 0 or depth % self.vision_cfg["frame_patch_size"]:
            raise ValueError(f"vision depth {depth} is not a positive multiple of {self.vision_cfg['frame_patch_size']}")
        if self.vision_model is None:
            hidden, v, p = self.text_cfg["hidden_size"], self.vision_cfg, self.perceiver_cfg
            self.vision_model = (radfm_vision(self.checkout, v, p, hidden) if self.checkout
                                 else plain_vision(v, p, hidden))
            side = v["image_size"]
            self.vision_model(torch.rand(1, 3, side, side, v["frame_patch_size"]))  # first pass: allocation, threads
        if depth not in self.images:
            side = self.vision_cfg["image_size"]
            self.images[depth] = torch.rand(1, 3, side, side, depth)
        start = time.perf_counter()
        self.vision_model(self.images[depth])
        return time.perf_counter() - start

    def vision_line(self, depth, seconds):
        side = self.vision_cfg["image_size"]
        return f"vision {side}x{side}x{depth}: {seconds:.3f} s"

    def prefill(self, batch):
        if self.llm is None:
            self.llm = hf_llm(self.text_cfg) if self.checkout else plain_llm(self.text_cfg)
        prompt = torch.randint(100, self.text_cfg["vocab_size"], (batch, self.plan["prompt"]))
        start = time.perf_counter()
        self.prefilled[batch] = self.llm[0](prompt)
        return time.perf_counter() - start

    def prefill_line(self, batch, seconds):
        return f"prefill batch {batch}: {seconds:.3f} s, {batch * self.plan['prompt'] / seconds:.0f} tokens/s"

    def decode(self, batch):
        """`plan["decode"]` greedy steps continuing the latest prefill of this batch; the median step."""
        if batch not in self.prefilled:
            raise ValueError(f"decode batch {batch} needs a prefill of batch {batch} first")
        (logits, cache), steps = self.prefilled.pop(batch), []
        for step in range(self.plan["decode"]):
            next_tokens = logits.argmax(-1, keepdim=True)
            start = time.perf_counter()
            logits, cache = self.llm[1](next_tokens, self.plan["prompt"] + step, cache)
            steps.append(time.perf_counter() - start)
        return sorted(steps)[len(steps) // 2]

    def decode_line(self, batch, step):
        return f"decode batch {batch}: {step:.4f} s/step, {batch / step:.1f} tokens/s (median step)"

    def answer_requests(self):
        """`radfm bench --lockstep`'s protocol: `ready`, then one result line per stdin request."""
        print("ready", flush=True)
        for request in sys.stdin:
            words = request.split()
            if words == ["quit"]:
                break
            try:
                if len(words) != 2 or not words[1].isdigit():
                    raise ValueError(f"expected `vision D`, `prefill B`, `decode B` or `quit`, got `{request.strip()}`")
                size = int(words[1])
                if words[0] == "vision":
                    reply = self.vision_line(size, self.vision(size))
                elif words[0] == "prefill":
                    reply = self.prefill_line(size, self.prefill(size))
                elif words[0] == "decode":
                    reply = self.decode_line(size, self.decode(size))
                else:
                    raise ValueError(f"unknown stage `{words[0]}` in `{request.strip()}`")
            except ValueError as error:
                reply = f"error: {error}"
            print(reply, flush=True)

if __name__ == "__main__":
    main()
