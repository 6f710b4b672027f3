"""What the agent remembers about a person: the manager, its tools, optimisation and the ranking.

Agno's names at their home (`agno.memory`): `MemoryManager`, `UserMemory`, `SummarizeStrategy`,
`MemoryOptimizationStrategy`, `MemoryOptimizationStrategyType`.
"""

from ..records import UserMemory
from .manager import MemoryManager
from .optimization import MemoryOptimizationStrategy, MemoryOptimizationStrategyType, SummarizeStrategy

__all__ = [
    "MemoryManager",
    "MemoryOptimizationStrategy",
    "MemoryOptimizationStrategyType",
    "SummarizeStrategy",
    "UserMemory",
]
