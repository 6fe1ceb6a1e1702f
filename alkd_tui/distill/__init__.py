"""Distillation: fine-tuning a student on the teacher's rankings (position-weighted BPR)."""
