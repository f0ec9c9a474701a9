"""Data-parallel training on several devices and hosts, through Keras' own engine
(``keras.distribution.DataParallel`` on the JAX backend).

One process per host; each sees every device of the job. The global batch
(``TrainConfig.batch_size``) is split evenly over all devices, so it must be a multiple of
their number; weights are replicated, gradients averaged by XLA. Several hosts join through
``keras.distribution.initialize``, configured by the standard environment variables (or
the matching ``asr train`` flags)::

    KERAS_DISTRIBUTION_JOB_ADDRESSES=host0:1234   # the coordinator (process 0)
    KERAS_DISTRIBUTION_NUM_PROCESSES=2
    KERAS_DISTRIBUTION_PROCESS_ID=0               # 0 .. NUM_PROCESSES - 1, one per host

Every process builds the same batches (same seed) and feeds its own contiguous share of the
rows of each (``CTCBatches(shard_index=, shard_count=)``), so all shapes agree across hosts.
Collective steps (building, saving and loading a model) run on every process; only
process 0 keeps the files.
"""

import dataclasses
import os
import pathlib
import tempfile

import keras

from asr.config import check_devices_flag
from asr.errors import ConfigError

ENV_JOB_ADDRESSES = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
ENV_NUM_PROCESSES = "KERAS_DISTRIBUTION_NUM_PROCESSES"
ENV_PROCESS_ID = "KERAS_DISTRIBUTION_PROCESS_ID"
ACCELERATORS = ("gpu", "cuda", "rocm", "tpu")  # JAX platforms where "auto" takes every device


@dataclasses.dataclass(frozen=True)
class Topology:
    """The devices a run trains on and this process' place among the processes."""

    devices: tuple = ()  # Keras device names; () = no distribution (one device)
    process_index: int = 0
    process_count: int = 1

    @property
    def n_devices(self):
        return max(len(self.devices), 1)

    @property
    def is_chief(self):
        """Process 0 writes checkpoints, reports and plots."""
        return self.process_index == 0


def _process_count_from_environment():
    value = os.environ.get(ENV_NUM_PROCESSES, "").strip() or "1"
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{ENV_NUM_PROCESSES}={value!r} must be a positive integer")
    return int(value)


def setup(devices="auto"):
    """Join the multi-host job (if the environment asks for one), choose the devices and set
    the Keras distribution. Call before any model is built. Returns the ``Topology``."""
    devices = check_devices_flag(devices)
    backend = keras.backend.backend()
    processes = _process_count_from_environment()
    if backend != "jax":
        if processes > 1 or (devices.isdigit() and int(devices) > 1):
            raise ConfigError(f"devices={devices!r} with {processes} process(es): training on several devices "
                              f"or hosts needs the JAX backend (KERAS_BACKEND=jax), not {backend!r}")
        return Topology()
    import jax

    if processes > 1 and not jax.distributed.is_initialized():
        keras.distribution.initialize()  # reads the KERAS_DISTRIBUTION_* variables
    available = keras.distribution.list_devices()
    count = _device_count(devices, available, jax.devices()[0].platform, jax.process_count())
    if count == 1:
        return Topology()
    chosen = tuple(available[:count])
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=chosen, auto_shard_dataset=False))
    return Topology(chosen, jax.process_index(), jax.process_count())


def _device_count(devices, available, platform, processes):
    if devices == "all" or (devices == "auto" and (platform in ACCELERATORS or processes > 1)):
        return len(available)
    if devices == "auto":
        return 1
    count = int(devices)
    if count > len(available):
        raise ConfigError(f"devices={count}: only {len(available)} device(s) available: {available}")
    if processes > 1 and count != len(available):
        raise ConfigError(f"devices={count}: a job of {processes} processes trains on all its {len(available)} "
                          "devices; pass --devices all")
    return count


def local_batch_multiple():
    """Rows of a batch that this process must feed in multiples of (its share of the devices
    of the current distribution; 1 without one)."""
    distribution = keras.distribution.distribution()
    if distribution is None:
        return 1
    import jax

    return max(distribution.device_mesh.devices.size // jax.process_count(), 1)


def save_model(model, path, topology, save):
    """``save(model, path)`` on process 0; the other processes save to a scratch file and
    delete it (saving gathers replicated weights, a step every process must take)."""
    if topology.is_chief:
        return save(model, path)
    with tempfile.TemporaryDirectory() as scratch:
        save(model, pathlib.Path(scratch) / pathlib.Path(path).name)
    return path


def barrier(topology, name):
    """Wait until every process of the job reaches this point (a no-op in one process)."""
    if topology.process_count > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def from_chief(topology, value):
    """Process 0's integer ``value``, on every process (``value`` itself in one process): for
    decisions each process would otherwise take from its own clock."""
    if topology.process_count <= 1:
        return value
    import numpy as np
    from jax.experimental import multihost_utils

    return int(multihost_utils.broadcast_one_to_all(np.int32(value)))
