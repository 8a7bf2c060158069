"""Shared pytest set-up: one torch thread, offline libraries, non-interactive plots."""
import os

os.environ.setdefault('YOLO_OFFLINE', '1')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')

import torch  # noqa: E402

torch.set_num_threads(1)
