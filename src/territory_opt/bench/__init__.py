"""Public benchmark instances turned into ordinary scenarios."""
