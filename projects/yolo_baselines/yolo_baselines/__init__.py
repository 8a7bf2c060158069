"""YOLOv11/YOLOv12 baselines for BleedOrigin (paper 5.2, 5.3.3, Tables 3-6).

Import path: ``projects.yolo_baselines.yolo_baselines`` (repository root on
``sys.path``), e.g. ``custom_imports=dict(imports=['projects.yolo_baselines.yolo_baselines'])``.
"""
from .dataset_adapter import AdapterParams, build_yolo_dataset, point_to_box, sample_frames
from .evaluation import collect_detections, render_confidence_tables, yolo_metrics
from .offline import OfflineDownloadError, import_ultralytics
from .onset import (
    CONFIDENCE_THRESHOLDS,
    TABLE_THRESHOLD,
    OnsetGate,
    first_frame_above,
    source_at_frame,
)
from .train import method_name, resolve_model, train_yolo
from .yolo_detector import YOLOBleedingDetector

__all__ = [
    'AdapterParams', 'build_yolo_dataset', 'point_to_box', 'sample_frames', 'collect_detections',
    'render_confidence_tables', 'yolo_metrics', 'OfflineDownloadError', 'import_ultralytics',
    'CONFIDENCE_THRESHOLDS', 'TABLE_THRESHOLD', 'OnsetGate', 'first_frame_above', 'source_at_frame',
    'method_name', 'resolve_model', 'train_yolo', 'YOLOBleedingDetector'
]
