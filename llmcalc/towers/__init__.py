"""Encoder towers and projectors of multimodal checkpoints, one module per tower kind.

Each module holds pure formula functions: explicit integer sizes in, a :class:`~llmcalc.spec.Tower`
(its named components, in the order the reference implementation builds them) out. The importer
(:mod:`llmcalc.importers.hf.multimodal`, :mod:`llmcalc.importers.hf.whisper`) reads the config and
calls them; :func:`llmcalc.params.count_params` adds each tower's parameters to the total under
``vision_tower``, ``audio_tower`` or ``projector``.

What goes where follows the module layout of the checkpoint class (``*ForConditionalGeneration``
in Hugging Face transformers 5.24), as ``shared/reference/configs-2-params.json`` does: the vision
or audio encoder module is the tower; the module that maps its features into the language model's
width (``multi_modal_projector``, Qwen-VL's ``merger`` and DeepStack mergers, GLM-4V's
``downsample`` + ``merger``, Idefics3's ``connector``) is the projector; the rest (embeddings,
decoder layers including Mllama's gated cross-attention layers, lm_head) is the language model.
"""
