"""Small model-independent kernels: growable buffers, window boundaries."""
from pathlib import Path
import numpy as np
from numba import typed

from eventsim.engine.kernels import push_check, push_spike, window_of


def test_spike_and_check_buffers_grow_without_losing_entries():
    bt, bi = typed.List([np.zeros(2)]), typed.List([np.zeros(2, np.int64)])
    n = 0
    for k in range(1000):
        n = push_spike(bt, bi, n, k * 0.5, k)
    assert n == 1000
    assert np.array_equal(bt[0][:n], np.arange(1000) * 0.5)
    assert np.array_equal(bi[0][:n], np.arange(1000))
    ct, ci, cv = typed.List([np.zeros(1)]), typed.List([np.zeros(1, np.int64)]), typed.List([np.zeros(1, np.int64)])
    m = 0
    for k in range(300):
        m = push_check(ct, ci, cv, m, 1.0 + k, k, 2 * k)
    assert np.array_equal(cv[0][:m], 2 * np.arange(300)) and np.array_equal(ct[0][:m], 1.0 + np.arange(300))


def test_window_of_uses_float64_boundaries_k_times_W():
    W = 0.1
    for k in range(0, 2000, 7):
        b = k * W
        assert window_of(b, W) == k                       # a boundary belongs to the window it starts
        assert window_of(np.nextafter(b, -np.inf), W) == k - 1 or k == 0
        assert window_of(b + 0.5 * W, W) == k


def test_borrowed_arrays_share_the_data_without_a_reference_count():
    """kernels.borrowed: the same data, shape and strides (a write through it lands in
    the original), but no meminfo or parent: returned to Python, numba boxes it as an
    array that owns nothing and keeps nothing alive (an array with its count would come
    back as the original, or with numba's MemInfo as its base)."""
    from numba import njit

    from eventsim.engine.kernels import borrowed

    @njit
    def through(a):
        b = borrowed(a)
        b[1, 0] = -7.0
        return b

    @njit
    def counted(a):
        return a[:, :]

    a = np.arange(24.0).reshape(4, 6)
    view = a[:, ::2]   # strided
    b = through(view)
    assert a[1, 0] == -7.0 and b.shape == view.shape and b.strides == view.strides
    assert np.array_equal(b, view) and np.shares_memory(b, a)
    assert b.base is None and not b.flags.owndata
    c = counted(view)
    assert c.base is not None and np.shares_memory(c, a)


def test_borrowed_item_reads_a_typed_lists_array_in_place_without_a_reference_count():
    """kernels.borrowed_item: lst[i] of a typed list of arrays, the same data and shape (a
    write through it lands in the list's array), returned with no meminfo or parent: numba
    boxes it as a new array that owns nothing and keeps nothing alive (lst[i], counted,
    comes back as the array the list was made of)."""
    from numba import njit

    from eventsim.engine.kernels import borrowed_item

    @njit
    def through(lst, i):
        b = borrowed_item(lst, i)
        b[2] = -1.5
        return b

    @njit
    def counted(lst, i):
        return lst[i]

    arrays = [np.arange(5.0), np.arange(7.0) * 2, np.arange(3.0)]
    lst = typed.List(arrays)
    for i in range(3):
        b = through(lst, i)
        assert b.shape == arrays[i].shape and lst[i][2] == -1.5 and b[2] == -1.5
        assert np.shares_memory(b, lst[i]) and b is not arrays[i] and b.base is None and not b.flags.owndata
    assert np.array_equal(lst[1], [0.0, 2.0, -1.5, 6.0, 8.0, 10.0, 12.0])
    assert counted(lst, 1) is arrays[1]


def test_window_of_scaled_finds_the_same_window_as_window_of():
    """The fan-out's window_of_scaled (a product by 1/W for the first guess): the same k
    as window_of for times on and next to boundaries and in between, for windows whose
    inverse is not exact in binary."""
    from eventsim.engine.kernels import window_of_scaled
    rng = np.random.default_rng(3)
    for W in (0.1, 0.3, 0.7, 1.0 / 3.0, 0.125, 1.5):
        ks = np.arange(0, 200000, 997)
        ts = np.concatenate([ks * W, np.nextafter(ks * W, np.inf), np.nextafter(ks * W, -np.inf)[1:],
                             rng.uniform(0, 2e4, 2000)])
        for t in ts:
            k = window_of_scaled(t, W, 1.0 / W)
            assert k == window_of(t, W) and k * W <= t < (k + 1) * W


def test_grown_buckets_keep_each_buckets_records_and_nothing_else():
    """kernels.copy_fills (CpuEngine._alloc_buckets): every bucket's filled records, in
    order, to the larger rows; what lies past a bucket's fill is not copied (it is never
    read: stale records of a consumed window stay behind)."""
    from eventsim.engine.kernels import ARRIVAL_DTYPE, copy_fills
    rng = np.random.default_rng(3)
    S, B, cap = 2, 5, 7
    old = np.zeros((S, B, cap), dtype=ARRIVAL_DTYPE)
    old["t"] = rng.random(old.shape)
    old["w"] = rng.normal(size=old.shape)
    old["tgt"] = rng.integers(0, 1000, size=old.shape)
    fill = np.zeros((S, 16), dtype=np.int64)   # (rows padded as CpuEngine's b_count)
    fill[:, :B] = rng.integers(0, cap + 1, size=(S, B))
    fill[0, 0], fill[1, 4] = cap, 0
    new = np.zeros((S, B, 3 * cap), dtype=ARRIVAL_DTYPE)
    copy_fills(old, new, fill)
    for s in range(S):
        for b in range(B):
            n = fill[s, b]
            assert np.array_equal(new[s, b, :n], old[s, b, :n])
            assert not np.any(new[s, b, n:]["t"]) and not np.any(new[s, b, n:]["tgt"])


def test_prefetch_takes_arrays_of_every_element_type_in_one_function():
    """Regression: llvm.prefetch was declared with the pointer type of its first use, so a
    function prefetching a float64 array after an int32 one (the fan-out: targets,
    weights, delays, bucket records) failed to compile."""
    from numba import njit

    from eventsim.engine.kernels import ARRIVAL_DTYPE, prefetch, prefetch1

    @njit
    def touch(a, b, recs, grid):
        prefetch1(a, 1)
        prefetch1(b, 1)
        prefetch1(recs, 5)   # (past the end: a hint, never a fault)
        prefetch(grid, 0, 1)
        return a[1] + b[1] + recs[0].t + grid[0, 1]

    recs = np.zeros(2, dtype=ARRIVAL_DTYPE)
    recs[0]["t"] = 0.25
    grid = np.arange(4.0).reshape(2, 2)
    assert touch(np.array([1, 2], np.int32), np.array([0.5, 1.5]), recs, grid) == 2 + 1.5 + 0.25 + 1.0


def test_buckets_are_zeroed_memory_of_their_own_in_small_pages():
    """cpu.zeros_small_pages (the buckets, which grow while the loop runs): zeroed,
    writable, C-contiguous, each array its own memory; and, where the kernel lists the
    mapping in /proc/self/smaps, not eligible for transparent huge pages (whose
    compaction at first writes stalled the loop)."""
    from eventsim.engine.cpu import zeros_small_pages
    from eventsim.engine.kernels import ARRIVAL_DTYPE
    a = zeros_small_pages((2, 3, 200_000), ARRIVAL_DTYPE)
    b = zeros_small_pages((2, 3, 200_000), ARRIVAL_DTYPE)
    assert a.shape == (2, 3, 200_000) and a.dtype == ARRIVAL_DTYPE and a.flags.c_contiguous and a.flags.writeable
    assert not a["t"].any() and not a["tgt"].any()
    a[1, 2, 7] = (1.5, -2.0, 9, 0)
    assert b[1, 2, 7]["t"] == 0.0 and a[1, 2, 7]["tgt"] == 9
    assert zeros_small_pages((0, 4), np.float64).shape == (0, 4)
    smaps = Path("/proc/self/smaps")
    if smaps.exists():
        mid = a.__array_interface__["data"][0] + a.nbytes // 2   # (numpy's own arrays: a first page apart)
        eligible = None
        lines = smaps.read_text().splitlines()
        for k, line in enumerate(lines):
            head = line.split()[0]
            if "-" in head and all(c in "0123456789abcdef-" for c in head):
                lo, hi = (int(x, 16) for x in head.split("-"))
                if lo <= mid < hi:
                    for rest in lines[k + 1:]:
                        if rest.startswith("THPeligible:"):
                            eligible = int(rest.split()[1])
                            break
                    break
        if eligible is not None:
            assert eligible == 0
