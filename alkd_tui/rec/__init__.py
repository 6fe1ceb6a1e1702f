"""Session recommenders (torch): architectures, training, evaluation, checkpoints."""
