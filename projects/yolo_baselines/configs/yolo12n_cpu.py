# YOLO12-n with the CPU schedule of yolo11n_cpu.py (same data, input, patience, resume).
_base_ = ['./yolo11n_cpu.py']
model = 'yolo12n.yaml'
