"""What builds and judges the model: the corpus cache, the chorale harmoniser, training,
the n-gram baseline, metrics, evaluation, the model card and raw sampling. Nothing here
runs for a user's song."""
