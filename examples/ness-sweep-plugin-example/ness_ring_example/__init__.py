"""Example plugin model for ness-sweep (docs/adding-a-model.md)."""
