"""Numerical solvers shared by the models: one module per method family."""
