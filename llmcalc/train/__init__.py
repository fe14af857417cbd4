"""Training and fine-tuning planner: what trains, memory per GPU, fit, FLOPs and time.

One module per concern: :mod:`~llmcalc.train.names` (PyTorch module names per model family, data),
:mod:`~llmcalc.train.modules` (a spec's modules as PEFT sees them), :mod:`~llmcalc.train.lora`
(trainable parameters, PEFT's counting), :mod:`~llmcalc.train.memory` (weights, gradients, master
weights, optimizer states under ZeRO and model parallelism), :mod:`~llmcalc.train.activations`
(saved for backward, with recompute), :mod:`~llmcalc.train.flops` (FLOPs, tokens, time) and
:mod:`~llmcalc.train.plan` (all of it for one setting, the fit and the solvers).
"""
