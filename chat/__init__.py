"""Chat: questions answered from the vault, every statement cited (extractive, or by a configured generator)."""
