"""Evaluation designs; each registers itself by name for study files."""

from .base import DESIGNS, Design, get_design, register_design

__all__ = ["DESIGNS", "Design", "get_design", "register_design"]
