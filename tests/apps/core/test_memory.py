"""The collector pause of the bulk paths (apps.core.memory): off inside, back as it was after."""

from __future__ import annotations

import gc

import pytest

from apps.core.memory import cyclic_gc_paused


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_and_resumed_after(collector_on):
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumed_after_an_exception(collector_on):
    with pytest.raises(ValueError), cyclic_gc_paused():
        raise ValueError("a bad row")
    assert gc.isenabled()


def test_nested_pause_leaves_it_off_for_the_outer_block(collector_on):
    @cyclic_gc_paused()
    def inner() -> bool:
        return gc.isenabled()

    with cyclic_gc_paused():
        assert inner() is False
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on):
    gc.disable()
    with cyclic_gc_paused():
        pass
    assert not gc.isenabled()
    gc.enable()
