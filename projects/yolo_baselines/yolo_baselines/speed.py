"""YOLO11-n with random weights: the speed row of Table 10 when no YOLO run is given."""


def reference_yolo11n():
    """YOLO11-n built from its yaml (random weights) for the speed row when no run is given."""
    import torch

    from .offline import import_ultralytics
    from .predictor import BestBoxPredictor

    import_ultralytics()
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel('yolo11n.yaml', nc=1, verbose=False).eval()
    for p in model.parameters():
        p.requires_grad_(False)

    class _Speed(torch.nn.Module):
        method = 'YOLOv11-n'

        def __init__(self):
            super().__init__()
            self.yolo = model
            self.predictor = BestBoxPredictor(model, 640)

        def forward(self, frames):
            return self.predictor(frames)

    return _Speed()
