"""The runtime stays in small rooms: no module of agentapp/agent/ over 450 lines, no function over 60."""

from __future__ import annotations

from .sizes import function_lines, module_lines

MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def test_no_runtime_module_is_over_450_lines():
    assert {name: n for name, n in module_lines().items() if n > MAX_MODULE_LINES} == {}


def test_no_runtime_function_is_over_60_lines():
    assert {name: n for name, n in function_lines().items() if n > MAX_FUNCTION_LINES} == {}


def test_the_measure_sees_every_module_and_function():
    modules, functions = module_lines(), function_lines()
    assert "agentapp/agent/agent.py" in modules and len(modules) > 20
    assert any(name.endswith(" run") for name in functions)
