"""minigan.utils.data against torch.utils.data: the batches, their dtypes and shapes, len,
drop_last, and shuffling that is a permutation per epoch, repeated by reseeding."""
import numpy as np
import pytest

import minigan
from minigan.utils.data import DataLoader, Dataset, TensorDataset, default_collate


class Squares(Dataset):
    """Sample i: (a (2, 3) float32 array, the int i, the float i / 2, the string 'i')."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return np.full((2, 3), i * i, np.float32), i, i / 2, str(i)


def test_tensor_dataset_yields_tuples_of_rows():
    x, y = minigan.randn(5, 3), minigan.tensor(np.arange(5))
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[3]
    np.testing.assert_array_equal(xi.numpy(), x.numpy()[3])
    assert yi.item() == 3


def test_tensor_dataset_refuses_tensors_of_different_lengths():
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(minigan.zeros(4, 2), minigan.zeros(5))


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (7, True),
                                                   (10, False), (10, True)])
def test_batches_match_pytorch_in_order_len_and_dtypes(torch, batch_size, drop_last):
    ours = list(DataLoader(Squares(), batch_size=batch_size, drop_last=drop_last))
    theirs = list(torch.utils.data.DataLoader(Squares(), batch_size=batch_size,
                                              drop_last=drop_last))
    assert len(DataLoader(Squares(), batch_size=batch_size, drop_last=drop_last)) == len(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert isinstance(a, list) and len(a) == 4  # a tuple sample collates to a list
        for field_a, field_b in zip(a[:3], b[:3]):
            assert tuple(field_a.shape) == tuple(field_b.shape)
            assert field_a.dtype == np.dtype(str(field_b.dtype).replace("torch.", ""))
            np.testing.assert_array_equal(field_a.numpy(), field_b.numpy())
        assert a[3] == b[3]


def test_default_collate_of_dicts_and_nested_tuples_matches_pytorch(torch):
    batch = [{"x": (np.float64(i), [i, i + 1]), "name": f"s{i}"} for i in range(3)]
    ours, theirs = default_collate(batch), torch.utils.data.default_collate(batch)
    assert ours["name"] == theirs["name"]
    np.testing.assert_array_equal(ours["x"][0].numpy(), theirs["x"][0].numpy())
    assert ours["x"][0].dtype == np.float64
    for a, b in zip(ours["x"][1], theirs["x"][1]):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.dtype == np.int64


def test_default_collate_refuses_unequal_shapes():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([minigan.zeros(2), minigan.zeros(3)])


def test_shuffle_visits_every_index_once_per_epoch_and_reseeding_repeats_it():
    ds = TensorDataset(minigan.tensor(np.arange(50)))
    loader = DataLoader(ds, batch_size=8, shuffle=True)

    def epochs():
        return [np.concatenate([b.numpy() for b, in loader]) for _ in range(2)]

    minigan.manual_seed(3)
    first = epochs()
    minigan.manual_seed(3)
    again = epochs()
    for order in first:
        assert sorted(order) == list(range(50))
    assert not np.array_equal(first[0], first[1])  # a new order every epoch
    assert not np.array_equal(first[0], np.arange(50))
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])


def test_a_generator_makes_shuffling_independent_of_the_default_seed():
    ds = TensorDataset(minigan.tensor(np.arange(20)))
    orders = []
    for default_seed in (1, 2):
        minigan.manual_seed(default_seed)
        loader = DataLoader(ds, batch_size=20, shuffle=True,
                            generator=minigan.Generator().manual_seed(7))
        orders.append(next(iter(loader))[0].numpy())
    np.testing.assert_array_equal(orders[0], orders[1])


def test_num_workers_is_accepted_and_batches_are_the_same():
    ds = TensorDataset(minigan.tensor(np.arange(10.0)))
    plain = [b.numpy() for b, in DataLoader(ds, batch_size=4)]
    workers = [b.numpy() for b, in DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True)]
    for a, b in zip(plain, workers):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"batch_size": 0}, ValueError, "batch_size should be a positive integer"),
    ({"num_workers": -1}, ValueError, "num_workers"),
    ({"shuffle": True, "sampler": [0, 1]}, ValueError, "mutually exclusive"),
    ({"drop_last": "yes"}, ValueError, "drop_last should be a boolean"),
])
def test_bad_arguments_are_refused_as_pytorch_refuses_them(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(TensorDataset(minigan.zeros(4)), **kwargs)


def test_batch_size_none_yields_samples_one_by_one():
    ds = TensorDataset(minigan.tensor(np.arange(3)))
    assert [s[0].item() for s in DataLoader(ds, batch_size=None)] == [0, 1, 2]
