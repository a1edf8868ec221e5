"""Rasa's DIET classifier, trained with tf.data's autotuning off (config.yml uses it).

Why: after DIET's last epoch, TensorFlow tears down the Keras input pipeline, and the teardown
waits for tf.data's autotuning thread (`Model::OptimizeLoop`), which notices only when its own
timed wait ends: 10-18 s of nothing in most trainings here (seen in a gdb trace), a fifth of
`make model`. The pipeline only feeds Rasa's small in-memory batches, so autotuning gains nothing.
No environment variable turns it off, and Keras builds the dataset inside `fit`, so this class
adds the option to the one dataset it builds there, `tf.data.Dataset.from_generator`, for the
length of training only. Everything else, including the trained model, is DIET's own.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.training_data.training_data import TrainingData


@contextlib.contextmanager
def _without_data_autotune() -> Iterator[None]:
    original = tf.data.Dataset.from_generator

    def from_generator(*args, **kwargs):
        options = tf.data.Options()
        options.autotune.enabled = False
        return original(*args, **kwargs).with_options(options)

    tf.data.Dataset.from_generator = staticmethod(from_generator)
    try:
        yield
    finally:
        tf.data.Dataset.from_generator = staticmethod(original)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
                           DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class DIETWithoutAutotune(DIETClassifier):
    """DIETClassifier whose training input pipeline has tf.data autotuning off."""

    def train(self, training_data: TrainingData) -> Resource:
        with _without_data_autotune():
            return super().train(training_data)
