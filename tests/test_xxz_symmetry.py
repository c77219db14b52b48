"""Reflection × spin-flip reduction of the XXZ Liouvillian against the unreduced blocks and
the dense n² × n² Liouvillian built in tests/test_xxz.py (numpy Kronecker products)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from test_xxz import brute_force, current_on_bond

from ness_core import evaluate
from ness_core.models.xxz import reflection_flip, xxz_blocks, xxz_operators
from ness_core.solvers.lindblad import Liouvillian, charge_sectors


def chain(length, mu=0.6, delta_z=1.2, gamma=0.8):
    h, baths = xxz_operators({"L": length, "drive": mu, "anisotropy": delta_z,
                              "coupling": gamma})
    return h, [j for bath in baths for j in bath]


def sorted_eigenvalues(mat):
    lam = scipy.linalg.eigvals(mat.toarray() if hasattr(mat, "toarray") else mat)
    return lam[np.lexsort((np.round(lam.imag, 9), np.round(lam.real, 9)))]


def test_reflection_flip_reverses_and_flips_the_spins():
    # |↑↑↓⟩ (index 0b001) ↦ |↑↓↓⟩ (reverse: ↓↑↑ = 0b100, flip: 0b011)
    assert reflection_flip(3)[0b001] == 0b011
    pi = reflection_flip(4)
    np.testing.assert_array_equal(pi[pi], np.arange(16))


@pytest.mark.parametrize("length", [3, 4])
def test_sectors_carry_exactly_the_spectrum_of_the_unreduced_blocks(length):
    """Spectrum of q = 0 = union of the 𝒫 = ±1 sectors; each real q ≠ 0 block has the
    complex block's spectrum; all blocks together are the full dense Liouvillian's."""
    h, jumps = chain(length)
    n = 2**length
    up = np.array([length - bin(a).count("1") for a in range(n)])
    sectors = charge_sectors(up)
    pi = reflection_flip(length)
    whole = Liouvillian(h, jumps, sectors[0], charge=up)
    halves = [Liouvillian(h, jumps, sectors[0], charge=up, real_arithmetic=True, symmetry=pi,
                          parity=p) for p in (1, -1)]
    assert sum(b.real_matrix.shape[0] for b in halves) == sectors[0].size
    np.testing.assert_allclose(
        sorted_eigenvalues(whole.matrix),
        sorted_eigenvalues(scipy.linalg.block_diag(*[b.real_matrix.toarray() for b in halves])),
        atol=1e-10)
    found = [scipy.linalg.eigvals(b.real_matrix.toarray()) for b in halves]
    for q in range(1, length + 1):
        real = Liouvillian(h, jumps, sectors[q], charge=up, real_arithmetic=True, symmetry=pi)
        assert np.abs(real.real_matrix.imag).max() == 0.0  # stored real
        lam = scipy.linalg.eigvals(real.real_matrix.toarray())
        np.testing.assert_allclose(sorted_eigenvalues(real.real_matrix),
                                   sorted_eigenvalues(Liouvillian(h, jumps, sectors[q]).matrix),
                                   atol=1e-10)
        found += [lam, lam.conj()]  # q and −q have conjugate spectra
    _, full = brute_force(length, 0.6, 1.2, 0.8)
    np.testing.assert_allclose(sorted_eigenvalues(np.diag(np.concatenate(found))),
                               sorted_eigenvalues(np.diag(full)), atol=1e-9)


def test_reduced_steady_state_and_gap_match_the_dense_liouvillian():
    """L = 5: sectors of 126 and q = 1 of 210 elements go through SuperLU and Arnoldi."""
    length, mu, delta_z, gamma = 5, 0.6, 1.2, 0.8
    rho, lam = brute_force(length, mu, delta_z, gamma)
    h, jumps = chain(length, mu, delta_z, gamma)
    blocks = xxz_blocks(h, jumps, length)
    assert [b.parity for b in blocks[:2]] == [1, -1]
    assert all(b.real_arithmetic for b in blocks)
    out = evaluate("xxz", L=length, drive=mu, anisotropy=delta_z, coupling=gamma)
    assert out["status"] == "ok" and out["residual"] < 1e-12
    assert out["current"] == pytest.approx(current_on_bond(rho, length // 2, length), abs=1e-12)
    lam = lam[np.argsort(-lam.real)][1:]
    assert out["gap"] == pytest.approx(-lam[0].real, rel=1e-9)
    assert out["gap_imag"] == pytest.approx(abs(lam[0].imag), abs=1e-9)


def test_fluctuations_keep_the_whole_block_and_agree():
    plain = evaluate("xxz", L=5, drive=0.4, fluctuations=True)
    reduced = evaluate("xxz", L=5, drive=0.4)
    assert plain["gap"] == pytest.approx(reduced["gap"], rel=1e-10)
    assert plain["current"] == pytest.approx(reduced["current"], rel=1e-12)


def test_a_map_that_is_no_symmetry_is_refused():
    """Reflection alone swaps σ⁺_1 (rate Γ(1+μ)/2) with σ⁺_L (rate Γ(1−μ)/2): not a
    symmetry at μ ≠ 0, so neither the parity sector nor the real q = 1 block exist."""
    length = 3
    h, jumps = chain(length)
    up = np.array([length - bin(a).count("1") for a in range(8)])
    sectors = charge_sectors(up)
    reflection = reflection_flip(length) ^ 7
    with pytest.raises(ValueError, match="commute"):
        Liouvillian(h, jumps, sectors[0], real_arithmetic=True, symmetry=reflection, parity=1)
    with pytest.raises(ValueError, match="closed"):
        Liouvillian(h, jumps, sectors[1], real_arithmetic=True, symmetry=reflection)
