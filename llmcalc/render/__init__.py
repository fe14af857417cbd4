"""Rendering with rich: the only package that imports rich. One module per command."""
