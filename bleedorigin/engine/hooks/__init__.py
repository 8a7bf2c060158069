from .lora_hook import LoRAHook
from .nan_guard_hook import NaNGuardHook, NonFiniteLossError
from .point_visualization_hook import PointVisualizationHook

__all__ = ['NaNGuardHook', 'NonFiniteLossError', 'LoRAHook', 'PointVisualizationHook']
