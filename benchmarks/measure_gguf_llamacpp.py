"""Measure llama.cpp's GGUF file sizes and CPU buffer sizes on tiny random-weight models.

Writes ``tests/data/gguf_llamacpp_measured.json``: for each tiny model (configs below, saved with
transformers from random weights, with a 2048-token byte-level BPE tokenizer trained offline on
transformers' own sources) the exact byte size of each GGUF file llama.cpp makes from it, the
ggml type llama-quantize gave each tensor, and the CPU buffers (KV, compute, output) a llama.cpp
context allocates for several ``n_ctx``, ``n_ubatch`` and flash-attention settings.

Standard library only; the model building and GGUF reading run in a measurement venv (torch +
transformers + tokenizers + sentencepiece) given by ``--python``. It needs an existing CPU build
of llama.cpp (``--llama-cpp DIR`` with ``convert_hf_to_gguf.py``, ``gguf-py`` and
``build/bin/llama-quantize`` and ``build/bin/llama-perplexity``); it does not build one.

Measured with llama.cpp 0c1e57098 (the tree vendored by llama-cpp-python 0.3.36), transformers
5.24.0, torch 2.13 (CPU). Three local changes to that tree, none touching sizes or types:
- ``conversion/base.py`` ``get_vocab_base_pre``: the test tokenizer's unknown pre-tokenizer hash
  maps to ``"gpt-2"`` (stock converters refuse unknown hashes);
- ``conversion/gptneox.py``: ``rotary_pct`` read from transformers 5's
  ``rope_parameters.partial_rotary_factor`` (transformers 5 no longer keeps ``rotary_pct``);
- ``src/llama-context.cpp`` / ``src/llama-kv-cache.cpp``: the "compute buffer size", "output
  buffer size" and "KV buffer size" log lines also print the exact byte count ("(N bytes)").

Commands it runs (per model M, format Q):
  PYTHONPATH=LLAMA/gguf-py PY LLAMA/convert_hf_to_gguf.py models/M --outtype f16|bf16 --outfile M-F16.gguf
  LLAMA/build/bin/llama-quantize M-F16.gguf M-Q.gguf Q 2
  LLAMA/build/bin/llama-perplexity -m M-F16.gguf -f hi.txt -c N -b min(N,2048) -ub U -fa on|off --no-warmup \
      --fit off -lv 4 -t 2     (the context is created and logged, then it stops: too few tokens;
      -b keeps perplexity at one sequence: it runs n_batch // n_ctx sequences and sizes n_ctx by them;
      phi3 runs from a copy converted with --model-name tiny-p, as llama-vocab.cpp needs "</s>",
      "<unk>" and "<s>" in any vocabulary of a model named phi3)

Usage: python benchmarks/measure_gguf_llamacpp.py --llama-cpp /work/llama.cpp \
           --python /work/mvenv/bin/python --work /tmp/gguf_meas
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

LLAMA_CPP_COMMIT = "0c1e57098"
LLAMA_CPP_SOURCE = "llama-cpp-python 0.3.36 sdist, vendor/llama.cpp (ggml-org/llama.cpp@0c1e57098)"

_COMMON = {"max_position_embeddings": 8192, "bos_token_id": 0, "eos_token_id": 0}

#: The tiny models: hidden sizes multiples of 256 so every K-quant applies to the block tensors.
CONFIGS: dict[str, dict[str, object]] = {
    "llama": {"model_type": "llama", "hidden_size": 512, "intermediate_size": 1024,
              "num_hidden_layers": 4, "num_attention_heads": 8, "num_key_value_heads": 4,
              "vocab_size": 2048, "tie_word_embeddings": False, **_COMMON},
    "qwen3": {"model_type": "qwen3", "hidden_size": 512, "intermediate_size": 1024,
              "num_hidden_layers": 6, "num_attention_heads": 8, "num_key_value_heads": 2,
              "head_dim": 64, "vocab_size": 2176, "tie_word_embeddings": True, **_COMMON},
    "gemma3": {"model_type": "gemma3_text", "hidden_size": 512, "intermediate_size": 1024,
               "num_hidden_layers": 6, "num_attention_heads": 4, "num_key_value_heads": 1,
               "head_dim": 256, "vocab_size": 2048, "sliding_window": 256, "pad_token_id": 1,
               **_COMMON},
    "phi3": {"model_type": "phi3", "hidden_size": 512, "intermediate_size": 1024,
             "num_hidden_layers": 4, "num_attention_heads": 8, "num_key_value_heads": 8,
             "vocab_size": 2048, "original_max_position_embeddings": 8192,
             "tie_word_embeddings": False, "pad_token_id": 1, **_COMMON},
    "gpt_neox": {"model_type": "gpt_neox", "hidden_size": 512, "intermediate_size": 2048,
                 "num_hidden_layers": 4, "num_attention_heads": 8, "vocab_size": 2048,
                 "rotary_pct": 0.25, "tie_word_embeddings": False, **_COMMON},
    "deepseek_v3": {"model_type": "deepseek_v3", "hidden_size": 512, "intermediate_size": 1024,
                    "moe_intermediate_size": 256, "num_hidden_layers": 4,
                    "num_attention_heads": 8, "num_key_value_heads": 8, "n_routed_experts": 8,
                    "n_shared_experts": 1, "num_experts_per_tok": 2, "first_k_dense_replace": 1,
                    "n_group": 1, "topk_group": 1, "q_lora_rank": 256, "kv_lora_rank": 256,
                    "qk_nope_head_dim": 64, "qk_rope_head_dim": 32, "v_head_dim": 64,
                    "vocab_size": 2048, "tie_word_embeddings": False, "rope_scaling": None,
                    **_COMMON},
    "qwen3_moe": {"model_type": "qwen3_moe", "hidden_size": 512, "intermediate_size": 1024,
                  "moe_intermediate_size": 256, "num_hidden_layers": 4,
                  "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 64,
                  "num_experts": 8, "num_experts_per_tok": 2, "decoder_sparse_step": 1,
                  "mlp_only_layers": [], "vocab_size": 2048, "tie_word_embeddings": False,
                  **_COMMON},
    "mixtral": {"model_type": "mixtral", "hidden_size": 512, "intermediate_size": 512,
                "num_hidden_layers": 4, "num_attention_heads": 8, "num_key_value_heads": 4,
                "num_local_experts": 4, "num_experts_per_tok": 2, "vocab_size": 2048,
                "tie_word_embeddings": False, **_COMMON},
}

#: llama-quantize targets (from the F16 file); IQ types needing an importance matrix are skipped.
QUANTS = ("Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S", "Q4_0", "Q3_K_L", "Q3_K_M",
          "Q3_K_S", "Q2_K", "IQ4_XS", "IQ4_NL")
CONVERTS = ("F16", "BF16")
#: Context settings for the buffer measurement: (n_ctx, n_ubatch, flash attention).
BUFFER_SETTINGS = (*((c, u, fa) for c in (512, 2048, 8192) for u in (128, 512) for fa in ("off", "on")),
                   # contexts off the 256 grid, and the default -fa auto
                   (1000, 512, "off"), (1000, 512, "on"), (3000, 128, "off"), (3000, 128, "on"),
                   (4096, 512, "auto"))
BUFFER_MODELS = ("llama", "qwen3", "gemma3", "phi3", "gpt_neox", "deepseek_v3", "qwen3_moe", "mixtral")

_BUILD = r'''
import glob, json, os, sys
import torch, transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedTokenizerFast
out, configs = sys.argv[1], json.loads(sys.argv[2])
torch.manual_seed(0)
root = os.path.dirname(transformers.__file__)
files = sorted(sum((glob.glob(f"{root}/models/{m}/*.py") for m in ("llama", "qwen3", "gemma3", "phi3")), []))
text = [open(f, encoding="utf-8").read() for f in files]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.post_processor = processors.ByteLevel(trim_offsets=False)
tok.train_from_iterator(text, trainers.BpeTrainer(
    vocab_size=2048, special_tokens=["<|endoftext|>", "<|pad|>", "<|im_start|>", "<|im_end|>"],
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
assert tok.get_vocab_size() == 2048
fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                               eos_token="<|endoftext|>", pad_token="<|pad|>")
for name, cfgd in configs.items():
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    cfgd = dict(cfgd)
    mt = cfgd.pop("model_type")
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(mt, **cfgd), dtype=torch.bfloat16)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02)
    model.save_pretrained(d, safe_serialization=True)
    fast.save_pretrained(d)
    path = os.path.join(d, "tokenizer_config.json")
    tc = json.load(open(path))
    tc["tokenizer_class"] = "GPT2Tokenizer" if mt == "phi3" else "PreTrainedTokenizerFast"
    json.dump(tc, open(path, "w"), indent=2)
    if "rotary_pct" in cfgd:  # transformers 5 moves it to rope_parameters; the converter reads it
        path = os.path.join(d, "config.json")
        c = json.load(open(path))
        c["rotary_pct"] = cfgd["rotary_pct"]
        json.dump(c, open(path, "w"), indent=2)
    print(name, sum(p.numel() for p in model.parameters()))
'''

_DUMP = r'''
import json, os, sys
from gguf import GGUFReader
out = {}
for path in sys.argv[1:]:
    r = GGUFReader(path)
    types = {}
    for t in r.tensors:
        if t.tensor_type.name != "F32":
            types.setdefault(t.tensor_type.name, []).append(t.name)
    out[path] = {
        "file_bytes": os.path.getsize(path),
        "tensor_data_bytes": sum(int(t.n_bytes) for t in r.tensors),
        "data_offset": int(r.data_offset),
        "n_tensors": len(r.tensors),
        "n_kv": len(r.fields) - 3,
        "f32_tensors": sum(1 for t in r.tensors if t.tensor_type.name == "F32"),
        "types": types,
    }
print(json.dumps(out))
'''

_BYTES = r"\(([0-9]+) bytes\)"
_PATTERNS = {
    "kv_bytes": re.compile(r"llama_kv_cache: +(\S+) KV buffer size = .*" + _BYTES),
    "compute_bytes": re.compile(r"sched_reserve: +(\S+) compute buffer size = .*" + _BYTES),
    "output_bytes": re.compile(r"llama_context: +(\S+) +output buffer size = .*" + _BYTES),
}


def _run(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    with log.open("w") as fh:
        return subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env).returncode


def _parse_buffers(text: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, pat in _PATTERNS.items():
        found = [(m.group(1), int(m.group(2))) for m in pat.finditer(text)]
        out[key] = sum(b for _, b in found)
        out[key + "_by_buffer"] = [[n, b] for n, b in found]
    for key, pat in (("n_ctx", r"llama_context: n_ctx += (\d+)"),
                     ("n_ctx_seq", r"llama_context: n_ctx_seq += (\d+)"),
                     ("n_batch", r"llama_context: n_batch += (\d+)"),
                     ("n_ubatch", r"llama_context: n_ubatch += (\d+)"),
                     ("flash_attn", r"llama_context: flash_attn += (\S+)")):
        m = re.search(pat, text)
        out[key] = (int(m.group(1)) if m.group(1).isdigit() else m.group(1)) if m else None
    fa = re.search(r"Flash Attention (enabled|disabled)", text)
    out["flash_attn_resolved"] = fa.group(1) if fa else out["flash_attn"]
    kv = re.search(r"llama_kv_cache: size = .*", text)
    out["kv_log"] = kv.group(0).strip() if kv else None
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llama-cpp", type=Path, required=True)
    ap.add_argument("--python", default="/work/mvenv/bin/python")
    ap.add_argument("--work", type=Path, default=Path("/tmp/gguf_meas"))
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parents[1] / "tests/data/gguf_llamacpp_measured.json")
    ap.add_argument("--skip-build", action="store_true", help="reuse models under WORK/models")
    args = ap.parse_args()
    llama, work = args.llama_cpp.resolve(), args.work.resolve()
    bins, logs, ggufs = llama / "build/bin", work / "logs", work / "gguf"
    for d in (logs, ggufs):
        d.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(llama / "gguf-py"))
    if not args.skip_build:
        subprocess.run([args.python, "-c", _BUILD, str(work / "models"), json.dumps(CONFIGS)],
                       check=True)
    files: dict[str, dict[str, str]] = {}
    renamed: dict[str, str] = {}
    for model in CONFIGS:
        files[model] = {}
        for ot in CONVERTS:
            dst = ggufs / f"{model}-{ot}.gguf"
            rc = _run([args.python, str(llama / "convert_hf_to_gguf.py"), str(work / "models" / model),
                       "--outtype", ot.lower(), "--outfile", str(dst)],
                      logs / f"convert-{model}-{ot}.log", env)
            if rc == 0:
                files[model][ot] = str(dst)
        if model == "phi3":  # llama-vocab.cpp marks "</s>", "<unk>", "<s>" for models named phi3:
            # the test vocabulary has none, so the buffer runs use a copy under another name
            dst = ggufs / "phi3-F16-renamed.gguf"
            if _run([args.python, str(llama / "convert_hf_to_gguf.py"), str(work / "models" / model),
                     "--outtype", "f16", "--model-name", "tiny-p", "--outfile", str(dst)],
                    logs / "convert-phi3-F16-renamed.log", env) == 0:
                renamed[model] = str(dst)
        for q in QUANTS:
            dst = ggufs / f"{model}-{q}.gguf"
            rc = _run([str(bins / "llama-quantize"), files[model]["F16"], str(dst), q, "2"],
                      logs / f"quantize-{model}-{q}.log")
            if rc == 0:
                files[model][q] = str(dst)
        print(model, sorted(files[model]), file=sys.stderr)
    dump = subprocess.run([args.python, "-c", _DUMP,
                           *[p for fm in files.values() for p in fm.values()]],
                          check=True, capture_output=True, text=True, env=env)
    facts = json.loads(dump.stdout)
    (work / "hi.txt").write_text("hello world\n")
    buffers: dict[str, list[dict[str, object]]] = {}
    for model in BUFFER_MODELS:
        buffers[model] = []
        for n_ctx, n_ubatch, fa in BUFFER_SETTINGS:
            log = logs / f"ppl-{model}-c{n_ctx}-ub{n_ubatch}-fa{fa}.log"
            n_batch = min(n_ctx, 2048)  # perplexity runs n_batch // n_ctx sequences: keep it at one
            for _ in range(3):  # the asynchronous logger lost the tail of one run in ~200: retry
                _run([str(bins / "llama-perplexity"), "-m", renamed.get(model, files[model]["F16"]),
                      "-f", str(work / "hi.txt"), "-c", str(n_ctx), "-b", str(n_batch), "-ub", str(n_ubatch),
                      "-fa", fa, "--no-warmup", "--fit", "off", "-lv", "4", "-t", "2"], log)
                if "compute buffer size" in log.read_text(errors="replace"):
                    break
            row: dict[str, object] = {"gguf": "F16", "requested_n_ctx": n_ctx, "requested_n_batch": n_batch,
                                      "requested_n_ubatch": n_ubatch, "requested_fa": fa}
            row.update(_parse_buffers(log.read_text(errors="replace")))
            buffers[model].append(row)
    result = {
        "source": "benchmarks/measure_gguf_llamacpp.py",
        "llama_cpp_commit": LLAMA_CPP_COMMIT,
        "llama_cpp_source": LLAMA_CPP_SOURCE,
        "backend": "CPU (GGML_NATIVE=ON, x86-64), 2 threads; F16 KV cache (default)",
        "tokenizer": "byte-level BPE, 2048 tokens (4 special), trained with tokenizers on "
                     "transformers' llama/qwen3/gemma3/phi3 sources; tokenizer.ggml.pre = gpt-2",
        "configs": CONFIGS,
        "files": {m: {fmt: {k: v for k, v in facts[p].items()} for fmt, p in fm.items()}
                  for m, fm in files.items()},
        "buffers": buffers,
    }
    args.out.write_text(json.dumps(result, indent=1, sort_keys=False) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
