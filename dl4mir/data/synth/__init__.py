"""Synthetic datasets written in the real datasets' layouts: guitar_fx (EGFxSet), instruments (TinySOL), vowels."""
