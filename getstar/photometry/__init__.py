"""Photometric transformations used at snapshot build (estimated magnitudes)."""
