"""bot/diet.py: DIET's training dataset has tf.data autotuning off, only while DIET trains."""
from __future__ import annotations

import pytest
import tensorflow as tf

from bot.diet import _without_data_autotune


def numbers() -> tf.data.Dataset:
    return tf.data.Dataset.from_generator(lambda: iter([1, 2, 3]), output_signature=tf.TensorSpec((), tf.int32))


def test_while_training_generator_datasets_have_autotune_off_and_give_the_same_data():
    with _without_data_autotune():
        dataset = numbers().prefetch(1)  # as Keras builds it
        assert dataset.options().autotune.enabled is False
        assert list(dataset.as_numpy_iterator()) == [1, 2, 3]


def test_afterwards_and_after_a_failure_tensorflow_is_as_it_was():
    original = tf.data.Dataset.from_generator
    with pytest.raises(RuntimeError):
        with _without_data_autotune():
            raise RuntimeError("training failed")
    assert tf.data.Dataset.from_generator is original
    assert numbers().options().autotune.enabled is not False
