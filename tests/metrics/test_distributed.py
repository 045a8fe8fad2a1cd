"""The same block kernels, person-partitioned on a local Dask cluster, give the in-process answer."""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'dask[distributed]')")

from evaluation.metrics.benefits import (  # noqa: E402
    benefit_dependency, compute_on_dask, compute_streaming, status_at_month, weeks_to_self_support,
)
from evaluation.data.registers import iter_panel_blocks, write_register  # noqa: E402
from evaluation.synthetic.registers import simulate_registers  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def sim():
    return simulate_registers(2000, n_weeks=120, enrolment=(40, 60), potential_outcomes=False, seed=11)


def test_dask_in_memory_partitions_match(client, sim):
    ref = benefit_dependency(sim.panel, sim.participants, (1, 52))
    got = compute_on_dask(benefit_dependency, client, sim.participants, panel=sim.panel, n_partitions=4, window=(1, 52))
    np.testing.assert_array_equal(got.index, ref.index)
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), equal_nan=True)
    w = compute_on_dask(weeks_to_self_support, client, sim.participants, panel=sim.panel, min_weeks=4)
    assert w.equals(weeks_to_self_support(sim.panel, sim.participants, min_weeks=4))


def test_dask_reads_parquet_row_groups_on_workers(client, sim, tmp_path):
    f = write_register(sim.panel, tmp_path / "wide.parquet", "wide", row_group_size=250)
    ref = status_at_month(sim.panel, sim.participants, (3, 6))
    got = compute_on_dask(status_at_month, client, sim.participants, path=f, n_partitions=3, months=(3, 6))
    assert got.astype(str).equals(ref.astype(str))


def test_streaming_matches(sim, tmp_path):
    f = write_register(sim.panel, tmp_path / "long.parquet", "long")
    blocks = iter_panel_blocks(f, "long", block_persons=300, first_week=sim.panel.weeks.labels()[0],
                               last_week=sim.panel.weeks.labels()[-1])
    got = compute_streaming(benefit_dependency, blocks, sim.participants, window=(-26, 26))
    np.testing.assert_allclose(got.to_numpy(), benefit_dependency(sim.panel, sim.participants, (-26, 26)).to_numpy(),
                               equal_nan=True)


def test_dask_partition_files_stay_on_the_workers(client, sim, tmp_path):
    from evaluation.metrics import benefits as B

    files = B.partition_register(sim.panel, tmp_path / "parts", 3)
    assert len(files) == 3
    ref = benefit_dependency(sim.panel, sim.participants, (1, 52))
    B.dask_release(client)
    got = compute_on_dask(benefit_dependency, client, sim.participants, path=tmp_path / "parts", window=(1, 52))
    pd_testing = pytest.importorskip("pandas").testing
    pd_testing.assert_series_equal(got, ref)
    resident = {k: v for k, v in B._DASK_RESIDENT.items() if v[0]() is client}
    again = compute_on_dask(status_at_month, client, sim.participants, path=tmp_path / "parts", months=(3, 6))
    assert {k: v for k, v in B._DASK_RESIDENT.items() if v[0]() is client}.keys() == resident.keys()  # no re-read
    assert again.astype(str).equals(status_at_month(sim.panel, sim.participants, (3, 6)).astype(str))
    assert B.dask_release(client) >= 2
