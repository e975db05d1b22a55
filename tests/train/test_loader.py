"""InMemoryLoader (permutation batches, DDP shares) and BalancedSampler (one global draw shared by ranks)."""

from __future__ import annotations

import pytest
import torch

from logitlab.data.batches import BalancedSampler, InMemoryLoader, balanced_weights
from logitlab.errors import ConfigError, DataError


def test_each_epoch_is_a_seeded_permutation_of_all_rows() -> None:
    x, y = torch.arange(103.0).unsqueeze(1), torch.arange(103)
    loader = InMemoryLoader(x, y, batch_size=10, seed=5)
    epoch0 = torch.cat([b[1] for b in loader])
    assert sorted(epoch0.tolist()) == list(range(103)) and len(loader) == 11
    expected = torch.randperm(103, generator=torch.Generator().manual_seed(5))  # seed + epoch 0
    assert torch.equal(epoch0, expected)
    loader.set_epoch(1)
    assert not torch.equal(torch.cat([b[1] for b in loader]), epoch0)
    assert len(InMemoryLoader(x, y, batch_size=10, drop_last=True)) == 10


@pytest.mark.parametrize("world", [2, 4])
def test_rank_shares_of_each_global_batch_make_up_the_single_process_batch(world: int) -> None:
    x, y = torch.randn(96, 3), torch.arange(96)
    single = [b[1] for b in InMemoryLoader(x, y, batch_size=16, seed=3)]
    ranks = [
        [b[1] for b in InMemoryLoader(x, y, batch_size=16, seed=3, rank=r, world_size=world)]
        for r in range(world)
    ]
    assert all(len(r) == len(single) for r in ranks)
    for i, batch in enumerate(single):
        assert torch.equal(torch.cat([ranks[r][i] for r in range(world)]), batch)


def test_uneven_last_batch_gives_every_rank_the_same_number_of_rows() -> None:
    x, y = torch.randn(21, 2), torch.arange(21)
    shares = [list(InMemoryLoader(x, y, batch_size=8, shuffle=False, rank=r, world_size=2)) for r in (0, 1)]
    assert [len(s) for s in shares] == [3, 3]
    assert [len(s[-1][1]) for s in shares] == [3, 3]  # 5 rows left: padded by wrapping to 3 + 3
    seen = torch.cat([b[1] for s in shares for b in s])
    assert set(seen.tolist()) == set(range(21))


def test_loader_errors() -> None:
    with pytest.raises(DataError, match="as many targets as inputs"):
        InMemoryLoader(torch.zeros(4, 1), torch.zeros(3), batch_size=2)
    with pytest.raises(ConfigError, match="divisible by the world size 2"):
        InMemoryLoader(torch.zeros(4, 1), torch.zeros(4), batch_size=3, world_size=2)


def test_balanced_sampler_union_over_ranks_is_the_single_process_draw() -> None:
    labels = torch.tensor([0] * 90 + [1] * 8 + [2] * 2)
    single = BalancedSampler(labels, seed=7, num_samples=60)
    single.set_epoch(3)
    draw = list(single)
    shares = []
    for r in range(3):
        s = BalancedSampler(labels, seed=7, num_samples=60, rank=r, world_size=3)
        s.set_epoch(3)
        shares.append(list(s))
    assert sorted(sum(shares, [])) == sorted(draw)
    assert [x for trio in zip(*shares) for x in trio] == draw  # rank r holds draw[r::3], in order
    ref = torch.multinomial(
        balanced_weights(labels), 60, replacement=True, generator=torch.Generator().manual_seed(10)
    )
    assert draw == ref.tolist()


def test_balanced_sampler_through_in_memory_loader_matches_single_process() -> None:
    labels = torch.tensor([0] * 70 + [1] * 10)
    x = torch.arange(80.0).unsqueeze(1)
    single = torch.cat(
        [b[1] for b in InMemoryLoader(x, labels, batch_size=8, sampler=BalancedSampler(labels, seed=1))]
    )
    ranks = [
        list(
            InMemoryLoader(
                x,
                labels,
                batch_size=8,
                rank=r,
                world_size=2,
                sampler=BalancedSampler(labels, seed=1, rank=r, world_size=2),
            )
        )
        for r in (0, 1)
    ]
    merged = torch.cat([torch.cat([ranks[0][i][1], ranks[1][i][1]]) for i in range(len(ranks[0]))])
    assert torch.equal(merged, single)


def test_balanced_draw_gives_classes_equal_shares() -> None:
    labels = torch.tensor([0] * 950 + [1] * 50)
    draw = BalancedSampler(labels, num_samples=20_000, seed=0).global_draw(0)
    share = (labels[draw] == 1).double().mean().item()
    assert abs(share - 0.5) < 0.02  # 4.5 standard errors of a fair coin at n=20000


def test_balanced_weights_multilabel_use_the_rarest_positive_label() -> None:
    y = torch.tensor([[1, 0], [1, 0], [1, 1], [0, 0]])
    w = balanced_weights(y)
    assert w.tolist() == pytest.approx([1 / 3, 1 / 3, 1.0, 1.0])  # label counts 3 and 1; the empty row alone
    with pytest.raises(DataError, match="balanced sampling"):
        balanced_weights(torch.zeros(2, 2, 2))
