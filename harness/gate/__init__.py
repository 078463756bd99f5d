"""The regression gate (``faultlab check``): re-score methods and compare with a baseline file."""
