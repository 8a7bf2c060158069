from .small_cnn import SmallCNNEncoder
from .torchvision_encoder import TorchvisionEncoder

__all__ = ['SmallCNNEncoder', 'TorchvisionEncoder']
