"""Tile plans: within the backend's bound, covering the page, with the least margin overhead."""
from __future__ import annotations

import pytest

from engine.cleaning.tiling import plan_tiles
from engine.models.geometry import Geometry

GENERAL = Geometry(receptive_field=157, size_multiple=16)  # the bundled general model


@pytest.mark.parametrize("shape", [(3508, 2480), (4961, 3508), (20000, 20000), (420, 540), (7, 3000), (1, 1)])
@pytest.mark.parametrize("bound", [1_500_000, 5_200_000])
def test_tiles_cover_the_page_within_the_bound(shape, bound):
    plan = plan_tiles(*shape, GENERAL, bound)
    tile_h, tile_w = plan.tile_shape
    assert plan.rows * plan.core[0] >= shape[0] > (plan.rows - 1) * plan.core[0]
    assert plan.cols * plan.core[1] >= shape[1] > (plan.cols - 1) * plan.core[1]
    assert plan.core[0] % 16 == 0 and plan.core[1] % 16 == 0 and plan.margin == GENERAL.margin
    assert tile_h * tile_w <= bound


def test_an_a4_page_goes_in_two_big_tiles_not_eight_small_ones():
    big, small = plan_tiles(3508, 2480, GENERAL, 5_200_000), plan_tiles(3508, 2480, GENERAL, 1_500_000)
    assert big.rows * big.cols == 2 and small.rows * small.cols == 8

    def pixels(plan):
        return plan.rows * plan.cols * plan.tile_shape[0] * plan.tile_shape[1]

    assert pixels(big) < 0.9 * pixels(small)
