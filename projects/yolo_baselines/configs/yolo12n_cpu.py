_base_ = ['./yolo11n_cpu.py']
model = 'yolo12n.yaml'
