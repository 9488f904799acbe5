"""Engines that run clean_one over many documents: local process pool (default) and Ray."""
