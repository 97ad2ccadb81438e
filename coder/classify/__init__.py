"""Code classifiers: a fast linear head, fine-tuning, zero-shot, and the saved model."""
