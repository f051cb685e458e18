"""Arithmetic shared by the audit and the project: parameter counts and memory (memory.py), the
training schedule (schedule.py), and the per-GPU memory plan of a spec (plan.py). No torch."""
