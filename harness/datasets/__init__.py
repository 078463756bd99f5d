"""Datasets by name: the shipped recordings, the synthetic generator, and labels from the journal."""
