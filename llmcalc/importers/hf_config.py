"""Compatibility import: the config.json importer lives in :mod:`llmcalc.importers.hf`."""

from llmcalc.importers.hf import SUPPORTED_MODEL_TYPES, spec_from_hf_config

__all__ = ["SUPPORTED_MODEL_TYPES", "spec_from_hf_config"]
