_base_ = ['./_base_/yolo_paper.py']
model = 'yolo11n.yaml'
