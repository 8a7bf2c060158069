# YOLO baseline settings of the paper (5.3): 640 input, batch 16, 200 epochs,
# every other hyper-parameter at the ultralytics default. Models are built from
# their yaml (random init): the paper fine-tuned official COCO weights, which
# cannot be downloaded here; pass model='path/to/yolo11n.pt' to start from a
# local checkpoint instead.
model = 'yolo11n.yaml'

# default data: the built-in synthetic benchmark, generated on first use
data_root = 'data/synthetic'
synthetic_data = {'data_root': 'data/synthetic', 'preset': 'default', 'seed': 0}
train_split = 'train'
val_split = 'val'

# bench -> ultralytics dataset (cached under cache_root, keyed by data + params)
adapter = {
    'box_size': None,  # px; None -> box_fraction * shorter frame side
    'box_fraction': 0.08,
    'negatives_per_clip': 2,
    'max_clips': None,
    'seed': 0}
cache_root = 'work_dirs/yolo_baselines/datasets'

train = {'epochs': 200, 'imgsz': 640, 'batch': 16, 'seed': 0, 'workers': 0, 'patience': 100}
work_dir = 'work_dirs/yolo_baselines'

# onset = first frame whose best box confidence > threshold (5.3.3)
evaluation = {'split': 'test', 'thresholds': (0.25, 0.10, 0.01), 'table_threshold': 0.01}
