"""Boilerplate knowledge as reviewable data files, one per language."""
