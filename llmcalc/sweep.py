"""Sweeps: memory and fit over a grid of models x weight formats x context lengths x batch sizes x GPU sets.

Each point of a sweep carries the numbers ``llmcalc memory`` gives for one model, format, context,
batch and GPU set: weights, KV cache, activations, overhead and their total (one device's worth, as
:func:`llmcalc.memory.estimate_memory` reports it), the per-GPU total on the set's GPU count, whether
that fits (:func:`llmcalc.fit.check_fit`) and how many of that GPU are needed
(:func:`llmcalc.fit.gpus_needed`). The numbers are equal, to the byte, to those functions' (a test
checks a sample across engines, sliding windows, MLA and quantized KV caches).

Speed comes from doing each piece of work once at the level of the grid it depends on, not from a
second set of formulas:

- per model: the spec, and per engine its :class:`~llmcalc.memory.EngineSettings`;
- per model and format: the weight bytes (:func:`llmcalc.quant.weights_for_format` or ``weights_for_bpw``);
- per model, engine, context and batch: :func:`llmcalc.kvcache.kv_cache`, the recurrent state and
  :func:`llmcalc.memory.activation_estimate`, each the library function itself;
- per point: integer sums, the split over GPUs of :func:`llmcalc.fit.per_gpu` and the comparison with
  :func:`llmcalc.fit.usable_bytes`.

A grid larger than ``max_points`` (default 1,000,000) is refused unless forced, so that a typo in a
grid file does not start an hour-long run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import MISSING, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from llmcalc.errors import ConfigError, UsageError
from llmcalc.fit import TP_SIZES, kv_share_bytes, replicated_bytes, usable_bytes, weights_share_bytes
from llmcalc.kvcache import caches_latent, kv_cache, normalise_engine, normalise_kv_dtype
from llmcalc.memory import EngineSettings, activation_estimate, engine_settings, overhead_estimate, with_batch_defaults

if TYPE_CHECKING:
    from llmcalc.gpus import GPU
    from llmcalc.spec import ModelSpec

#: Grids with more points than this are refused unless forced (``--yes``, ``force=True``).
DEFAULT_MAX_POINTS = 1_000_000

#: The progress callback is called after every this many points (and once at the end).
PROGRESS_EVERY = 8192

#: Keys of a grid file, in the order they are documented.
GRID_KEYS = ("models", "formats", "contexts", "batches", "gpus", "kv_dtype", "engine")



@dataclass(frozen=True)
class Grid:
    """The axes of a sweep; every point is one model, format, context, batch and GPU set.

    ``formats`` holds weight-format names (``bf16``, ``q4_k_m``) or bits per weight written as
    numbers (``"4"``, ``"4.5"``), as ``llmcalc memory --quant`` and ``--bpw`` take them. ``gpus``
    holds ``(gpu name, count)`` pairs; with no GPU sets the points say nothing about fit. ``engine``
    None chooses per format as ``llmcalc memory`` does (llama.cpp for GGUF file types, else hf).
    """

    models: tuple[str, ...] = ()
    formats: tuple[str, ...] = ("bf16",)
    contexts: tuple[int, ...] = (4096,)
    batches: tuple[int, ...] = (1,)
    gpus: tuple[tuple[str, int], ...] = ()
    kv_dtype: str = "f16"
    engine: str | None = None

    def __post_init__(self) -> None:
        """Check the axes a script passes directly, as :meth:`from_mapping` checks a file's.

        Lists become tuples; a bare string where a list belongs (``models="llama3"``), a GPU set
        written as text (``gpus=["2xh100"]``) or a non-integer context is a :class:`UsageError`
        that says what to pass instead.
        """
        problems: list[str] = []
        for key in ("models", "formats", "contexts", "batches", "gpus"):
            value = getattr(self, key)
            if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
                problems.append(f"Grid({key}=...) must be a list or tuple, got {type(value).__name__} "
                                f"{str(value)[:40]!r}; e.g. {key}=[...]")
                continue
            object.__setattr__(self, key, tuple(value))
        if not problems:
            problems += [f"models: {m!r} is not a model name" for m in self.models if not isinstance(m, str)]
            problems += [f"formats: {f!r} is not a format name or bits per weight" for f in self.formats
                         if not isinstance(f, str)]
            for key in ("contexts", "batches"):
                problems += [f"{key}: {v!r} is not a positive whole number" for v in getattr(self, key)
                             if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= 1 << 40]
            for g in self.gpus:
                ok = (isinstance(g, tuple) and len(g) == 2 and isinstance(g[0], str) and isinstance(g[1], int)
                      and not isinstance(g[1], bool) and 0 < g[1] <= 1 << 20)
                if not ok:
                    problems.append(f"gpus: {str(g)[:40]!r} is not a (gpu name, count) pair; write ('h100', 2) "
                                    "or use Grid.from_mapping({'gpus': ['2xh100']}, source=...)")
        if problems:
            raise UsageError("; ".join(problems))

    @property
    def size(self) -> int:
        """Points in the grid: the product of the axis lengths (a grid with no GPU sets counts one)."""
        return (len(self.models) * len(self.formats) * len(self.contexts) * len(self.batches)
                * max(1, len(self.gpus)))

    @classmethod
    def from_mapping(cls, data: object, *, source: str, base: Grid | None = None) -> Grid:
        """A grid from a parsed grid file (or options), each key replacing the same axis of ``base``.

        Lists may also be given as one value or a comma-separated string (``contexts: 4096, 8192``).
        Every problem is reported at once, prefixed by ``source``.
        """
        base = base or cls()
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: a grid must be a mapping with the keys {', '.join(GRID_KEYS)}")
        problems = [f"unknown key '{k}' (known: {', '.join(GRID_KEYS)})" for k in data if k not in GRID_KEYS]
        values: dict[str, object] = {}
        if "models" in data:
            values["models"] = _names(data["models"], "models", problems)
        if "formats" in data:
            values["formats"] = _formats(data["formats"], problems)
        for key in ("contexts", "batches"):
            if key in data:
                values[key] = _positive_ints(data[key], key, problems)
        if "gpus" in data:
            values["gpus"] = _gpu_sets(data["gpus"], problems)
        for key, normalise in (("kv_dtype", normalise_kv_dtype), ("engine", normalise_engine)):
            raw = data.get(key)
            if key not in data or (key == "engine" and raw is None):
                continue
            if not isinstance(raw, str):
                problems.append(f"{key} must be a name, got {raw!r}")
                continue
            try:
                values[key] = normalise(raw)
            except UsageError as exc:
                problems.append(f"{key}: {exc}")
        if problems:
            raise ConfigError(f"{source}: " + "; ".join(problems))
        merged = {name: values.get(name, getattr(base, name)) for name in GRID_KEYS}
        return cls(**merged)  # type: ignore[arg-type]  # each value validated above


def _items(raw: object) -> list[object]:
    """One value, a list, or a comma-separated string -> a list of values."""
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, (list, tuple)):
        return list(raw)
    return [raw]


def _names(raw: object, key: str, problems: list[str]) -> tuple[str, ...]:
    items = _items(raw)
    bad = [v for v in items if not isinstance(v, str) or not v.strip()]
    if bad or not items:
        problems.append(f"{key} must be a list of names, got {raw!r}")
        return ()
    return tuple(str(v).strip() for v in items)


def _formats(raw: object, problems: list[str]) -> tuple[str, ...]:
    items = _items(raw)
    out: list[str] = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (str, int, float)) or (isinstance(v, (int, float)) and v <= 0):
            problems.append(f"formats: {v!r} is neither a format name nor a positive bits per weight")
        else:
            out.append(str(v).strip())
    if not items:
        problems.append("formats must list at least one format")
    return tuple(out)


def _positive_ints(raw: object, key: str, problems: list[str]) -> tuple[int, ...]:
    out: list[int] = []
    items = _items(raw)
    from llmcalc.units import parse_count

    for v in items:
        value = v
        if isinstance(v, str):
            try:
                value = parse_count(v)  # 4096, 32k, 1M, as on the command line
            except ValueError:
                value = None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"{key}: {v!r} is not a positive whole number")
        else:
            out.append(value)
    if not items:
        problems.append(f"{key} must list at least one value")
    return tuple(out)


def _gpu_sets(raw: object, problems: list[str]) -> tuple[tuple[str, int], ...]:
    out: list[tuple[str, int]] = []
    from llmcalc.gpus import split_gpu_set

    for v in _items(raw):
        parts = split_gpu_set(v) if isinstance(v, str) else None
        if parts is None:
            shown = repr(v) if not isinstance(v, str) or len(v) <= 40 else repr(v[:37] + "...")
            problems.append(f"gpus: {shown} is not a GPU or a count x GPU (h100, 8xh100)")
            continue
        out.append(parts)
    return tuple(out)


def is_bits_per_weight(fmt: str) -> bool:
    """True for a format written as a number of bits per weight (``4``, ``4.5``, ``1e1``), not a name.

    The value itself is checked where it is used (:func:`llmcalc.quant.parse_bits`), as for ``--bpw``.
    """
    try:
        Fraction(fmt.strip())
    except (ValueError, ZeroDivisionError):
        return False
    return True


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep.

    ``weights_bytes`` and ``kv_cache_bytes`` are exact, ``activation_bytes`` and ``overhead_bytes``
    estimates, and ``total_bytes`` their sum for the whole model on one device, as ``llmcalc memory``
    reports it. ``per_gpu_bytes`` is one GPU's share on ``num_gpus`` GPUs, ``fits`` whether that is
    within the GPU's usable memory, ``gpus_needed`` the smallest tensor-parallel size (1, 2, 4 ... 64)
    that fits, None when not even 64 do. ``gpu``, ``num_gpus``, ``fits`` and ``gpus_needed`` are None
    in a grid without GPU sets.
    """

    model: str
    format: str
    engine: str
    context_tokens: int
    batch_size: int
    gpu: str | None
    num_gpus: int | None
    weights_bytes: int
    kv_cache_bytes: int
    activation_bytes: int
    overhead_bytes: int
    total_bytes: int
    per_gpu_bytes: int
    fits: bool | None
    gpus_needed: int | None
    #: estimated decode tokens/s of one sequence at this context and batch on the GPU set
    #: (:func:`llmcalc.speed.decode_coefficients`); None without a GPU set or its figures
    decode_tokens_per_s: float | None = None
    #: the context is longer than the model's trained maximum (max_position_embeddings)
    beyond_max_context: bool = False


#: Column order of CSV and JSON output: the fields of :class:`SweepPoint`.
POINT_FIELDS: tuple[str, ...] = tuple(SweepPoint.__dataclass_fields__)
#: Each field's default (None for the fields without one), for :func:`_point`.
_POINT_DEFAULTS: tuple[object, ...] = tuple(
    None if f.default is MISSING else f.default for f in SweepPoint.__dataclass_fields__.values())


@dataclass(frozen=True)
class _ModelEngine:
    """What one model costs on one engine, for every context and batch of the grid."""

    settings: EngineSettings
    latent: bool
    kv_heads: int
    #: [context index][batch index] -> (KV cache bytes, activation bytes, KV bytes per GPU by TP size)
    table: list[list[tuple[int, int, list[int]]]] = field(default_factory=list)

    def kv_share(self, kv: int, n: int) -> int:
        """One GPU's KV cache on ``n`` GPUs: :func:`llmcalc.fit.kv_share_bytes`."""
        return kv_share_bytes(kv, n, engine=self.settings.engine, latent=self.latent, kv_heads=self.kv_heads)

    def share(self, weights: int, kv: int, act: int, n: int, replicated: int = 0) -> int:
        """One GPU's total on ``n`` GPUs: :func:`llmcalc.fit.per_gpu` with :func:`overhead_estimate`."""
        t = weights_share_bytes(weights, n, replicated, engine=self.settings.engine) + self.kv_share(kv, n) + act
        return t + overhead_estimate(self.settings, tensor_bytes=t, num_gpus=n).total_bytes


def _model_engine(spec: ModelSpec, settings: Callable[[int], EngineSettings], grid: Grid) -> _ModelEngine:
    """A model's KV cache and activations on one engine for every context and batch of the grid.

    ``settings(ctx)`` are the engine's settings at that context (vLLM's batch defaults follow the
    GPU class and the context, :func:`llmcalc.memory.with_batch_defaults`). The KV cache is
    :func:`llmcalc.kvcache.kv_cache` itself (once per context and batch, shared by every format and
    GPU set of the class), and activations are :func:`llmcalc.memory.activation_estimate` itself.
    The recurrent state of state-space and linear-attention layers (:func:`llmcalc.state.state_bytes`,
    constant in context) is added to the KV figure, so a point's ``kv_cache_bytes`` is all the
    per-sequence cache the engine holds.
    """
    from llmcalc.state import state_bytes

    first = settings(grid.contexts[0]) if grid.contexts else settings(1)
    engine = first.engine
    latent = any(g.attention is not None and caches_latent(g.attention, engine)
                 for s in spec.stacks for g in s.groups)
    me = _ModelEngine(first, latent, spec.num_key_value_heads)
    for ctx in grid.contexts:
        at = settings(ctx)
        row = []
        for batch in grid.batches:
            kv = kv_cache(spec, context_tokens=ctx, batch_size=batch, kv_dtype=grid.kv_dtype, engine=engine,
                          cache=at.cache).total_bytes
            kv += state_bytes(spec, batch_size=batch, engine=engine, kv_dtype=grid.kv_dtype).total_bytes
            act = activation_estimate(spec, context_tokens=ctx, batch_size=batch, settings=at).total_bytes
            row.append((kv, act, [me.kv_share(kv, n) for n in TP_SIZES]))
        me.table.append(row)
    return me


def _weights_bytes(spec: ModelSpec, fmt: str) -> int:
    from llmcalc.quant import get_format, weights_for_bpw, weights_for_format

    if is_bits_per_weight(fmt):
        return weights_for_bpw(spec, fmt.strip()).total_bytes
    return weights_for_format(spec, get_format(fmt)).total_bytes


def _engine_for(grid: Grid, fmt: str) -> str:
    if grid.engine is not None:
        return grid.engine
    if is_bits_per_weight(fmt):
        return "hf"
    from llmcalc.report import choose_engine

    return normalise_engine(choose_engine(None, fmt)[0])


def check_size(grid: Grid, *, max_points: int = DEFAULT_MAX_POINTS, force: bool = False) -> None:
    """Refuse a grid of more than ``max_points`` points unless ``force``."""
    if grid.size > max_points and not force:
        raise UsageError(
            f"the grid has {grid.size:,} points, more than the limit of {max_points:,}; "
            "pass force=True to run it anyway, or raise max_points"
        )


def sweep(
    grid: Grid,
    *,
    specs: Mapping[str, ModelSpec] | None = None,
    gpus: Mapping[str, GPU] | None = None,
    presets_dirs: Iterable[str | Path] = (),
    gpus_files: Iterable[str | Path] = (),
    settings_overrides: Mapping[str, object] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[SweepPoint]:
    """Every point of ``grid``, in order: models, then formats, contexts, batches and GPU sets.

    Models are loaded with :func:`llmcalc.loading.load_model` and GPUs looked up with
    :func:`llmcalc.gpus.get_gpu` unless ``specs`` / ``gpus`` give them by the names the grid uses.
    Everything is resolved, and a grid over ``max_points`` refused, before the first point is
    yielded, so a bad name fails at once. ``progress(done, total)`` is called every
    :data:`PROGRESS_EVERY` points and at the end.
    """
    check_size(grid, max_points=max_points, force=force)
    if not grid.models:
        raise UsageError("the grid names no models; give --models or 'models:' in the grid file")
    from llmcalc.context import check_context
    from llmcalc.gpus import get_gpu
    from llmcalc.loading import load_model

    model_specs = [(specs or {}).get(m) or load_model(m, presets_dirs=presets_dirs).spec for m in grid.models]
    for spec in model_specs:
        for ctx in grid.contexts:
            check_context(spec, ctx)
    gpu_sets = [((gpus or {}).get(name) or get_gpu(name, extra_files=gpus_files), count) for name, count in grid.gpus]
    engines = {fmt: _engine_for(grid, fmt) for fmt in grid.formats}
    settings = {e: engine_settings(e, **(settings_overrides or {})) for e in set(engines.values())}
    weights = [[_weights_bytes(spec, fmt) for fmt in grid.formats] for spec in model_specs]
    return _points(grid, model_specs, gpu_sets, engines, settings, weights, progress, settings_overrides)


def _point(*values: object) -> SweepPoint:
    """A :class:`SweepPoint` from its field values in order, built without the frozen ``__init__``.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, 15 calls that
    cost as much as the rest of a point's arithmetic; filling the instance dictionary in one step
    makes an equal object (same fields, ``==``, ``hash`` and ``repr``) in half the time.
    """
    p = object.__new__(SweepPoint)
    values = values + _POINT_DEFAULTS[len(values):]  # trailing optional fields take their defaults
    object.__setattr__(p, "__dict__", dict(zip(POINT_FIELDS, values, strict=True)))
    return p


def _classes(
    engines: Iterable[str], gpu_sets: Sequence[tuple[GPU, int]], overrides: Mapping[str, object]
) -> dict[str, list[tuple[int | None, str] | None]]:
    """Per engine, each GPU set's batch-defaults class (one entry when there are no GPU sets).

    vLLM's batch defaults (and so its activations, and the KV cache of sliding-window layers) follow
    the GPU (:func:`llmcalc.engines.vllm.batch_defaults`): a class is the first such GPU's
    ``(total bytes, name)``, None where the settings do not depend on the GPU (other engines, or
    batch flags given).
    """
    from llmcalc.engines.vllm import batch_defaults

    out: dict[str, list[tuple[int | None, str] | None]] = {}
    for engine in engines:
        if normalise_engine(engine) != "vllm" or "max_num_batched_tokens" in overrides:
            out[engine] = [None] * max(1, len(gpu_sets))
            continue
        first: dict[tuple[int, int], tuple[int | None, str]] = {}
        keys: list[tuple[int | None, str] | None] = []
        gpus: list[GPU | None] = [gpu for gpu, _ in gpu_sets] or [None]
        for gpu in gpus:
            total, name = (gpu.usable_memory_bytes, gpu.name) if gpu is not None else (None, "")
            keys.append(first.setdefault(batch_defaults(gpu_total_bytes=total, gpu_name=name), (total, name)))
        out[engine] = keys
    return out


def _settings_at(
    engine: str, base: EngineSettings, key: tuple[int | None, str] | None, overrides: Mapping[str, object]
) -> Callable[[int], EngineSettings]:
    """The engine's settings at a context for one batch-defaults class (as ``llmcalc memory`` makes them)."""
    if key is None:
        return lambda ctx: base
    total, name = key
    return lambda ctx: engine_settings(engine, **with_batch_defaults(
        engine, dict(overrides), gpu_total_bytes=total, gpu_name=name, context_tokens=ctx))


def _points(
    grid: Grid,
    model_specs: Sequence[ModelSpec],
    gpu_sets: Sequence[tuple[GPU, int]],
    engines: Mapping[str, str],
    settings: Mapping[str, EngineSettings],
    weights: Sequence[Sequence[int]],
    progress: Callable[[int, int], None] | None,
    overrides: Mapping[str, object] | None = None,
) -> Iterator[SweepPoint]:
    total_points = grid.size
    done = 0
    point, new, set_dict = SweepPoint, object.__new__, object.__setattr__
    tp_sizes = TP_SIZES
    tp_index = {n: i for i, n in enumerate(tp_sizes)}
    # (gpu name, count, usable bytes) per GPU set and engine
    usable = {e: [(gpu.name, count, usable_bytes(gpu, s)) for gpu, count in gpu_sets] for e, s in settings.items()}
    classes = _classes(settings, gpu_sets, overrides or {})
    from llmcalc.speed import ModelWork, decode_coefficients, model_work

    for spec, model_weights in zip(model_specs, weights, strict=True):
        per_class: dict[tuple[str, tuple[int | None, str] | None], _ModelEngine] = {}
        speed_work: dict[str, ModelWork] = {}
        for fmt, w in zip(grid.formats, model_weights, strict=True):
            engine = engines[fmt]
            keys = classes[engine]
            mes: dict[tuple[int | None, str] | None, _ModelEngine] = {}
            for key in dict.fromkeys(keys):
                me = per_class.get((engine, key))
                if me is None:
                    me = per_class[engine, key] = _model_engine(
                        spec, _settings_at(engine, settings[engine], key, overrides or {}), grid)
                mes[key] = me
            s = settings[engine]  # the overhead constants do not depend on the batch defaults
            base_over = s.cuda_context_bytes + s.cuda_graph_bytes
            frac = s.allocator_reserve_fraction
            # fit.per_gpu and overhead_estimate, by tensor-parallel size: weights ceil(w / n), the KV cache's
            # split (me.kv_share), overhead constants (NCCL buffers from 2 GPUs on)
            rep = replicated_bytes(spec, w) if engine != "llama.cpp" else 0
            w_tp = [weights_share_bytes(w, n, rep, engine=engine) for n in tp_sizes]
            const_tp = [base_over + (s.multi_gpu_bytes if n > 1 else 0) for n in tp_sizes]
            sets = usable[engine]
            name = spec.name
            work = speed_work.get(engine)
            if work is None:
                work = speed_work[engine] = model_work(spec, kv_dtype=grid.kv_dtype, engine=engine)
            bpp = w / work.params if work.params else 2.0
            speed_rows = [[decode_coefficients(work, bytes_per_param=bpp, fmt=fmt, gpu=gpu, count=count,
                                               engine=engine, batch_size=batch) for gpu, count in gpu_sets]
                          for batch in grid.batches]
            limit = spec.max_context
            for ci, ctx in enumerate(grid.contexts):
                beyond = limit is not None and ctx > limit
                for bi, (batch, speeds) in enumerate(zip(grid.batches, speed_rows, strict=True)):
                    # estimate_memory (one device, overhead_estimate(num_gpus=1)) and the shares by TP size,
                    # once per batch-defaults class
                    at: dict[tuple[int | None, str] | None, tuple[int, int, int, int, list[int], _ModelEngine]] = {}
                    for key, me in mes.items():
                        kv, act, kv_tp = me.table[ci][bi]
                        tensors = w + kv + act
                        over = base_over + int(tensors * frac)
                        tp_tensors = [a + b + act for a, b in zip(w_tp, kv_tp, strict=True)]
                        shares = [t + c + int(t * frac) for t, c in zip(tp_tensors, const_tp, strict=True)]
                        at[key] = (kv, act, over, tensors + over, shares, me)
                    if not sets:
                        kv, act, over, total, _, _ = at[keys[0]]
                        yield _point(name, fmt, engine, ctx, batch, None, None, w, kv, act, over, total, total,
                                     None, None, None, beyond)
                        done += 1
                        if progress is not None and done % PROGRESS_EVERY == 0:
                            progress(done, total_points)
                        continue
                    needed_by_cap: dict[tuple[object, int], int | None] = {}
                    for (gpu_name, count, cap), sc, key in zip(sets, speeds, keys, strict=True):
                        kv, act, over, total, shares, me = at[key]
                        i = tp_index.get(count)
                        per = shares[i] if i is not None else me.share(w, kv, act, count, rep)
                        needed = needed_by_cap.get((key, cap), 0)
                        if needed == 0:  # fit.gpus_needed: the smallest tensor-parallel size that fits
                            fitting = (n for n, x in zip(tp_sizes, shares, strict=True) if x <= cap)
                            needed = needed_by_cap[key, cap] = next(fitting, None)
                        # _point(...), inlined: this line runs once per point
                        p = new(point)
                        set_dict(p, "__dict__", {
                            "model": name, "format": fmt, "engine": engine, "context_tokens": ctx,
                            "batch_size": batch, "gpu": gpu_name, "num_gpus": count, "weights_bytes": w,
                            "kv_cache_bytes": kv, "activation_bytes": act, "overhead_bytes": over,
                            "total_bytes": total, "per_gpu_bytes": per, "fits": per <= cap, "gpus_needed": needed,
                            "decode_tokens_per_s": None if sc is None else
                            1 / (max(sc[0] + sc[1] * ctx, sc[2] + sc[3] * ctx) + sc[4]),
                            "beyond_max_context": beyond,
                        })
                        yield p
                        done += 1
                        if progress is not None and done % PROGRESS_EVERY == 0:
                            progress(done, total_points)
    if progress is not None and done % PROGRESS_EVERY:
        progress(done, total_points)


def grid_warnings(grid: Grid, specs: Mapping[str, ModelSpec]) -> tuple[dict[str, int | None], list[str]]:
    """Each model's trained maximum context, and the warnings ``llmcalc memory`` would give for the grid:
    combinations an engine runs only approximately (:func:`llmcalc.engine_support.check`, which raises
    for those it does not run), contexts past a model's maximum (:func:`llmcalc.context.check_context`
    allows up to 1,000 times it) and attention heads that do not split evenly over a GPU set's tensor-parallel size (as
    :func:`llmcalc.fit.check_fit` notes; llama.cpp splits by layer, so not for it).
    """
    from llmcalc.engine_support import check as check_support
    from llmcalc.quant import get_format

    limits = {name: spec.max_context for name, spec in specs.items()}
    warnings: list[str] = []
    for fmt in grid.formats:  # what no engine runs is refused, as in `llmcalc memory`
        named = [] if is_bits_per_weight(fmt) else [get_format(fmt)]
        for message in check_support(_engine_for(grid, fmt), formats=named, kv_dtype=grid.kv_dtype):
            if message not in warnings:
                warnings.append(message)
    for model in grid.models:
        spec = specs[model]
        name, limit = spec.name, spec.max_context
        beyond = [c for c in grid.contexts if limit is not None and c > limit]
        if beyond:
            warnings.append(f"{name} was trained for {limit:,} tokens; {', '.join(f'{c:,}' for c in beyond)} "
                            "tokens are beyond it (the table marks them *)")
        heads = spec.num_attention_heads
        engines = {_engine_for(grid, fmt) for fmt in grid.formats}
        if engines != {"llama.cpp"}:
            for count in sorted({n for _, n in grid.gpus if n > 1 and heads and heads % n}):
                warnings.append(f"{name}: {heads} attention heads do not split evenly over {count} GPUs")
    return limits, warnings
