"""The review loop: which sentence to show next (strategies) and what the reviewer sees."""
