"""Token mixers other than attention: state-space, linear-attention, recurrent and convolution blocks.

A layer's *token mixer* is what moves information between positions. Attention
(:class:`llmcalc.spec.Attention`) is the common one; this package holds the others, one module per
kind, each a frozen dataclass that implements :class:`llmcalc.mixers.base.Mixer`:

- it lists its stored weights (:meth:`~llmcalc.mixers.base.Mixer.weights`) with GGUF-style names,
  shapes (``ne[0]`` first) and the PyTorch module name PEFT would target, so that parameter counts
  (:mod:`llmcalc.params`), tensor inventories (:mod:`llmcalc.tensors`), LoRA targets and FLOPs all
  derive from one list;
- it states its per-sequence state (:meth:`~llmcalc.mixers.base.Mixer.state`): the values a cache
  holds for one sequence, constant in the context length (Mamba's conv and SSM states, a linear
  attention's recurrent matrix), with the dtype policy each engine applies.

Kinds: :mod:`.mamba` (Mamba-1, Mamba-2), :mod:`.deltanet` (Qwen3-Next's gated DeltaNet),
:mod:`.kda` (Kimi Delta Attention), :mod:`.lightning` (MiniMax lightning attention), :mod:`.rglru`
(RecurrentGemma's RG-LRU block), :mod:`.shortconv` (LFM2); :mod:`.patterns` counts a model's layers
by kind, and :mod:`llmcalc.state` prices the state per engine.

Adding a mixer kind is one module here plus the importer that builds it; nothing else changes.
"""

from llmcalc.mixers.base import Mixer, StateTensor, Weight

__all__ = ["Mixer", "StateTensor", "Weight"]
